using Lingyuan.Jobs.Registers.Import;
using MiniExcelLibs;
using MiniExcelLibs.Attributes;
using MiniExcelLibs.OpenXml;

namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>
/// The template of a register: an .xlsx with the Chinese column headers and one example row, every column formatted
/// as text so Excel keeps the 18 digits of an ID number and the leading zeros of a code as typed.
/// </summary>
public static class RegisterTemplates
{
    public static async Task<MemoryStream> XlsxAsync(ImportKind kind, RegisterForm form, CancellationToken ct)
    {
        var row = new Dictionary<string, object?>();
        foreach (var c in kind.Columns) row[RegisterForms.Header(c)] = form.Example.GetValueOrDefault(c.Name, "");
        var config = new OpenXmlConfiguration
        {
            DynamicColumns = kind.Columns.Select(c => new DynamicExcelColumn(RegisterForms.Header(c)) { Format = "@", Width = 18 }).ToArray(),
        };
        var stream = new MemoryStream();
        await stream.SaveAsAsync(new[] { row }, sheetName: form.TitleZh, configuration: config, cancellationToken: ct);
        stream.Position = 0;
        return stream;
    }
}
