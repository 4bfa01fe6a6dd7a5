using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>
/// The Documents slice: every notice and decision as issued (<c>app.arrears_documents</c>), kept for
/// printing and mailed under the same dedupe key; and reading them back for the pages.
/// </summary>
public sealed class IssuedDocuments(Work work)
{
    public const string PartnerDigestKind = "partner_digest";

    /// <summary>Keeps the document and queues its mail under the same dedupe key; without recipients it is kept for printing only.</summary>
    public static async Task IssueAsync(UnitOfWork uow, string? caseNo, string kind, string key, Doc doc, IReadOnlyList<string> recipients)
    {
        var html = DocRender.Html(doc);
        var stored = await uow.ExecuteAsync("""
            INSERT INTO app.arrears_documents (case_no, kind, issued_on, title, html, dedupe_key)
            VALUES (@caseNo, @kind, @issuedOn, @Title, @html, @key)
            ON CONFLICT (dedupe_key) DO NOTHING
            """, new { caseNo, kind, issuedOn = doc.IssuedOn, doc.Title, html, key });
        if (stored == 0 || recipients.Count == 0) return;
        var subject = caseNo is null ? $"【{doc.Issuer}】{doc.Title}" : $"【{doc.Issuer}】{doc.Title}(案件 {caseNo})";
        await uow.EnqueueAsync(new OutboxMessage(key, recipients, subject, DocRender.Text(doc), html,
            caseNo is null ? "arrears_digest" : "arrears_case", caseNo ?? doc.IssuedOn.ToString("yyyy-MM-dd")));
    }

    /// <summary>A case's document as issued (printable HTML); null when the case has no such document.</summary>
    public Task<string?> CaseDocumentAsync(string caseNo, long id, CancellationToken ct) =>
        work.RunAsync("wage-arrears.document", uow => uow.SingleOrDefaultAsync<string>(
            "SELECT html FROM app.arrears_documents WHERE id = @id AND case_no = @caseNo", new { id, caseNo }), ct);

    /// <summary>A partner digest as issued (printable HTML); null when there is none with that id.</summary>
    public Task<string?> DigestAsync(long id, CancellationToken ct) =>
        work.RunAsync("wage-arrears.digest.document", uow => uow.SingleOrDefaultAsync<string>(
            "SELECT html FROM app.arrears_documents WHERE id = @id AND kind = @kind", new { id, kind = PartnerDigestKind }), ct);
}
