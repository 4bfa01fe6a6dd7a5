using Hangfire;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;

namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>
/// Checks and imports an uploaded register file as a Hangfire job, so a million rows need neither the browser nor the
/// request to wait: the file comes out of the database into the worker's temporary folder and goes through the same
/// engine as <c>import KIND FILE</c> (<see cref="RegisterImporter"/>), as the person who uploaded or confirmed it. The job's
/// only argument is the upload's number (no personal data in job arguments). Progress goes to the upload's row about
/// once a second; the page reads it.
/// </summary>
public sealed class RegisterUploadJob(RegisterUploads uploads, RegisterImporter importer, ILogger<RegisterUploadJob> log)
{
    /// <summary>The dry run: every row checked, the changes counted, the rejects kept; nothing written to the register.</summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task CheckAsync(long uploadId, CancellationToken ct)
    {
        if (!await uploads.MoveAsync(uploadId, UploadVerb.StartCheck, ct: ct)) return;
        var up = (await uploads.FindAsync(uploadId, ct))!;
        await RunAsync(up, dryRun: true, acceptValid: true, up.UploadedBy, UploadVerb.FinishCheck, ct);
    }

    /// <summary>The import the person confirmed: every row or nothing (<c>all</c>), or the valid rows (<c>valid</c>).</summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task ImportAsync(long uploadId, CancellationToken ct)
    {
        var up = await uploads.FindAsync(uploadId, ct);
        if (up is null || up.StateValue != UploadState.Importing) return;
        await RunAsync(up, dryRun: false, acceptValid: up.ImportMode == "valid", up.ImportedBy ?? up.UploadedBy, UploadVerb.FinishImport, ct);
    }

    private async Task RunAsync(UploadRow up, bool dryRun, bool acceptValid, string actor, UploadVerb finish, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("lingyuan-upload-");
        try
        {
            var path = Path.Combine(dir.FullName, "file");
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                await uploads.CopyPartAsync(up.Id, "file", file, ct);
            var rejects = acceptValid ? Path.Combine(dir.FullName, "rejects.csv") : null;
            var request = new ImportRequest(up.Kind, path, DryRun: dryRun, RejectsPath: rejects, Actor: actor)
            {
                FileName = up.FileName,
                Progress = p => uploads.ProgressAsync(up.Id, p, ct),
            };
            ImportResult result;
            try
            {
                result = await importer.ImportAsync(request, TextWriter.Null, ct);
            }
            catch (BadInputException ex)
            {
                await uploads.FailAsync(up.Id, ex.Problems, ct);
                return;
            }
            catch (UsageException ex)
            {
                await uploads.FailAsync(up.Id, [ex.Message], ct);
                return;
            }
            await uploads.FinishAsync(up.Id, finish, result, rejects, ct);
            log.LogInformation("register upload {Id} ({Kind}) {Step}: {Rows} rows, {Inserted} inserted, {Updated} updated, {Rejected} rejected",
                up.Id, up.Kind, dryRun ? "checked" : "imported", result.Rows, result.Inserted, result.Updated, result.Rejected);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
