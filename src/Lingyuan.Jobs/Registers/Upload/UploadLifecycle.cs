using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>The states of an uploaded register file; stored as snake_case text in <c>app.register_uploads.state</c>.</summary>
public enum UploadState { Uploaded, Checking, Checked, Importing, Imported, Failed, Discarded }

/// <summary>What can happen to an uploaded file.</summary>
public enum UploadVerb { StartCheck, FinishCheck, Import, FinishImport, Fail, Discard }

/// <summary>
/// An upload's lifecycle: the job checks the file (a dry run: every row validated, the changes counted, nothing
/// written), the person who may load that register imports it (every row, or only the valid ones), the job imports
/// it. Whether this person may load this kind is the register's own rule (<see cref="RegisterForms"/>); the roles
/// here are those that load any register. A job that restarts after a crash repeats its step (Checking and Importing
/// accept their start again): the import is idempotent, a re-run changes nothing it has written.
/// </summary>
public static class UploadLifecycle
{
    public static StateTable<UploadState, UploadVerb> Table { get; } = new(
        "名录文件",
        new Dictionary<UploadState, string>
        {
            [UploadState.Uploaded] = "等待检查",
            [UploadState.Checking] = "检查中",
            [UploadState.Checked] = "已检查,待确认",
            [UploadState.Importing] = "导入中",
            [UploadState.Imported] = "已导入",
            [UploadState.Failed] = "未通过",
            [UploadState.Discarded] = "已放弃",
        },
        [
            // The job's moves.
            new(UploadVerb.StartCheck, [UploadState.Uploaded, UploadState.Checking], UploadState.Checking, [], "开始检查"),
            new(UploadVerb.FinishCheck, [UploadState.Checking], UploadState.Checked, [], "检查完成"),
            new(UploadVerb.FinishImport, [UploadState.Importing], UploadState.Imported, [], "导入完成"),
            new(UploadVerb.Fail, [UploadState.Checking, UploadState.Importing], UploadState.Failed, [], "未通过"),
            // A person's moves.
            new(UploadVerb.Import, [UploadState.Checked], UploadState.Importing, [Roles.Admin, Roles.Finance, Roles.Inspection], "确认导入"),
            new(UploadVerb.Discard, [UploadState.Checked, UploadState.Failed], UploadState.Discarded, [Roles.Admin, Roles.Finance, Roles.Inspection], "放弃"),
        ]);

    public static string Db(UploadState s) => Table.Db(s);
}
