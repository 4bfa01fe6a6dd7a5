using System.Globalization;
using Lingyuan.Jobs.Hosting;
using MiniExcelLibs;
using MiniExcelLibs.OpenXml;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>
/// Register files as Excel workbooks (.xlsx), what a bureau actually exchanges. The first sheet is read by
/// MiniExcel as a stream of rows and written as UTF-8 CSV (MiniExcel's CSV writer does the quoting), one line per
/// sheet row, blank rows included, so the engine's <c>FILE:ROW:</c> is the row number Excel shows. Cells are
/// turned back into the text the file contract expects: dates as YYYY-MM-DD, whole numbers without a decimal
/// point or exponent, booleans as true/false.
/// </summary>
public static class RegisterSpreadsheet
{
    /// <summary>An .xlsx workbook is a ZIP archive: "PK\x03\x04".</summary>
    public static bool IsXlsx(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var s = File.OpenRead(path);
        return s.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head is [0x50, 0x4B, 0x03, 0x04];
    }

    public static void ToCsv(string xlsxPath, string csvPath, string file, CancellationToken ct)
    {
        var config = new OpenXmlConfiguration
        {
            // A million distinct names would otherwise be held in memory; beyond the cache size they go to a temporary file.
            EnableSharedStringCache = true,
            IgnoreEmptyRows = false,
            FillMergedCells = false,
        };
        using var input = File.OpenRead(xlsxPath);
        using var output = new FileStream(csvPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        try
        {
            MiniExcel.SaveAs(output, Rows(input, config, ct), printHeader: false, excelType: ExcelType.CSV);
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or System.Xml.XmlException or FileNotFoundException
                                       or KeyNotFoundException or IndexOutOfRangeException)
        {
            throw new BadInputException($"{file}:1: workbook: the file is not a readable .xlsx workbook ({ex.GetType().Name}), expected an Excel workbook saved as .xlsx / 无法读取该 Excel 文件");
        }
    }

    private static IEnumerable<IDictionary<string, object?>> Rows(Stream input, OpenXmlConfiguration config, CancellationToken ct)
    {
        string[]? letters = null;
        var n = 0;
        foreach (IDictionary<string, object?> row in MiniExcel.Query(input, useHeaderRow: false, excelType: ExcelType.XLSX, configuration: config))
        {
            if ((++n & 0x3FFF) == 0) ct.ThrowIfCancellationRequested();
            // The header row fixes the width: the columns up to its last named cell (a sheet's used range may be wider).
            letters ??= HeaderLetters(row);
            var line = new Dictionary<string, object?>(letters.Length);
            for (var i = 0; i < letters.Length; i++)
                line["c" + i.ToString(CultureInfo.InvariantCulture)] = Text(row.TryGetValue(letters[i], out var v) ? v : null);
            yield return line;
        }
    }

    private static string[] HeaderLetters(IDictionary<string, object?> header)
    {
        var keys = header.Keys.ToList();
        var last = keys.FindLastIndex(k => Text(header[k]).Trim().Length > 0);
        return keys.Take(Math.Max(last + 1, 1)).ToArray();
    }

    /// <summary>A cell as the text the register files carry.</summary>
    internal static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        DateTime d => d.TimeOfDay == TimeSpan.Zero
            ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : d.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        // A whole number keeps all its digits (an 18-digit code typed as a number has already lost some: its check digit says so).
        double x when Math.Abs(x) < 1e17 && x == Math.Floor(x) => ((long)x).ToString(CultureInfo.InvariantCulture),
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
