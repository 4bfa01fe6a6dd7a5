namespace Lingyuan.Jobs.Exports;

/// <summary>
/// Formula injection (CSV injection, OWASP): a cell starting with = + - @ (or a tab, CR or LF that a
/// spreadsheet may strip first, or the full-width forms Chinese input methods type) is run as a formula
/// by Excel (<c>=cmd|' /C calc'!A0</c>). Registers keep such text verbatim — it is what the source said —
/// and every file a spreadsheet may open (CSV, XLSX, rejects) gets the cell prefixed with an apostrophe,
/// which Excel shows as text. The one rule for every export of the service.
/// </summary>
public static class SpreadsheetText
{
    public static string Neutralise(string? cell) =>
        cell is { Length: > 0 } && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\n' or '＝' or '＋' or '－' or '＠'
            ? "'" + cell
            : cell ?? "";
}
