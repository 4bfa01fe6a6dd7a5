using System.Globalization;

namespace Lingyuan.Jobs;

/// <summary>
/// Money is <c>long</c> fen everywhere (the registers, the batches, the arrears cases); yuan appear only
/// where a person reads them (pages, notices, decisions, mails) and where a person writes them (a return
/// file, a setting).
/// </summary>
public static class Money
{
    /// <summary>For people: <c>1,234.56</c> (grouping commas, always two decimals, a leading minus when negative).</summary>
    public static string Yuan(long fen) =>
        (fen < 0 ? "-" : "") + (Math.Abs(fen) / 100).ToString("#,0", CultureInfo.InvariantCulture) + "." + (Math.Abs(fen) % 100).ToString("D2", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses yuan into fen, exactly. The rule lives in <see cref="Disbursements.Money.TryParseYuan"/> until the
    /// strict return-file parsing being written there is merged; then it moves here and that class goes.
    /// </summary>
    public static bool TryParseYuan(string? s, out long fen) => Disbursements.Money.TryParseYuan(s, out fen);
}
