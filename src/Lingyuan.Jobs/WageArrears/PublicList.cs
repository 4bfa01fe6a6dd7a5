using System.Text;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Exports;
using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>
/// The public list (公示): parties listed as of a day, with name, USCC, masked legal-representative ID,
/// reason and period, plus the directly responsible persons named on the case. Who is listed is read as
/// fixed at decision (<c>app.arrears_listed_parties</c>), never from today's employer register. A party whose
/// period ends on a day is gone from the list that day, whether or not its removal has been recorded yet.
/// </summary>
public sealed class PublicList(Work work)
{
    public sealed class Entry
    {
        public string CaseNo { get; set; } = "";
        public string EmployerName { get; set; } = "";
        public string Uscc { get; set; } = "";
        public string LegalRepName { get; set; } = "";
        public string LegalRepIdNumber { get; set; } = "";
        public string ResponsiblePersons { get; set; } = "";
        public string Reason { get; set; } = "";
        public DateOnly ListedOn { get; set; }
        public DateOnly ListedUntil { get; set; }

        /// <summary>The last day on the list (the period ends the day before removal).</summary>
        public DateOnly LastDay => ListedUntil.AddDays(-1);
    }

    public async Task<IReadOnlyList<Entry>> AsOfAsync(DateOnly day, CancellationToken ct) =>
        await work.RunAsync("wage-arrears.public-list", uow => uow.ListAsync<Entry>("""
            SELECT p.case_no AS CaseNo, lp.employer_name AS EmployerName, lp.uscc AS Uscc, lp.legal_rep_name AS LegalRepName,
                   lp.legal_rep_id_number AS LegalRepIdNumber, lp.responsible_persons AS ResponsiblePersons, p.decision_reason AS Reason,
                   p.decided_on AS ListedOn, p.listed_until AS ListedUntil
            FROM app.arrears_procedures p
            JOIN app.arrears_listed_parties lp ON lp.case_no = p.case_no
            WHERE p.state = @listed AND p.decided_on <= @day AND p.listed_until > @day
            ORDER BY p.decided_on, p.case_no
            """, new { day, listed = ProcedureLifecycle.Table.Db(ProcedureState.Listed) }), ct);

    public static readonly string[] Header = ["单位名称", "统一社会信用代码", "法定代表人(主要负责人)", "身份证号码", "直接责任人员", "列入事由", "列入日期", "列入期限至"];

    public static IReadOnlyList<string> Row(Entry e) =>
        [e.EmployerName, e.Uscc, e.LegalRepName, IdNumber.Mask(e.LegalRepIdNumber), e.ResponsiblePersons, e.Reason, e.ListedOn.ToString("yyyy-MM-dd"), e.LastDay.ToString("yyyy-MM-dd")];

    /// <summary>UTF-8 with BOM (what Excel in China opens correctly), RFC 4180 quoting, formula injection neutralised.</summary>
    public static byte[] Csv(IEnumerable<Entry> entries)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Header.Select(Cell))).Append("\r\n");
        foreach (var e in entries)
            sb.Append(string.Join(',', Row(e).Select(Cell))).Append("\r\n");
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

    /// <summary>
    /// A spreadsheet runs a cell that starts with = + - @ (or tab / CR, which some strip first) as a
    /// formula: such a cell gets a leading apostrophe so it stays text (OWASP, CSV injection).
    /// </summary>
    public static string Cell(string value)
    {
        var v = SpreadsheetText.Neutralise(value);
        return v.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
    }
}
