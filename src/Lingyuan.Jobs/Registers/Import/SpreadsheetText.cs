namespace Lingyuan.Jobs.Registers.Import;

/// <summary>
/// Formula injection (CSV injection, OWASP): a cell starting with = + - @ or a tab/CR is run as a formula
/// by Excel (<c>=cmd|' /C calc'!A0</c>). Registers keep such text verbatim — it is what the source said —
/// and every file a spreadsheet may open gets the cell prefixed with an apostrophe, which Excel shows as text.
/// </summary>
public static class SpreadsheetText
{
    public static string Neutralise(string cell) =>
        cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + cell : cell;
}
