using System.IO.Compression;
using System.Xml.Linq;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>One cell as stored in the sheet XML: its type attribute (null = number), its number format code, its raw value.</summary>
public sealed record XlsxCell(string? Type, string? FormatCode, string Value)
{
    public bool IsNumber => Type is null or "n";
}

/// <summary>
/// Reads an XLSX file as Excel does, from its parts (workbook, sheet, styles, shared strings), without any
/// spreadsheet library: so a test sees whether a cell is a number or text and which number format it carries.
/// </summary>
public static class XlsxCells
{
    private static readonly XNamespace Main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    private static readonly XNamespace Rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    private static readonly XNamespace Pkg = "http://schemas.openxmlformats.org/package/2006/relationships";

    /// <summary>The cells below the header <paramref name="header"/> of sheet <paramref name="sheet"/>, top to bottom.</summary>
    public static List<XlsxCell> Column(Stream xlsx, string sheet, string header)
    {
        using var zip = new ZipArchive(xlsx, ZipArchiveMode.Read, leaveOpen: true);
        XDocument Part(string path) => XDocument.Load(zip.GetEntry(path.TrimStart('/'))!.Open());
        var shared = zip.GetEntry("xl/sharedStrings.xml") is null ? [] :
            Part("xl/sharedStrings.xml").Root!.Elements(Main + "si").Select(si => string.Concat(si.Descendants(Main + "t").Select(t => t.Value))).ToList();

        var rid = Part("xl/workbook.xml").Root!.Element(Main + "sheets")!.Elements(Main + "sheet")
            .Single(s => (string?)s.Attribute("name") == sheet).Attribute(Rel + "id")!.Value;
        var target = Part("xl/_rels/workbook.xml.rels").Root!.Elements(Pkg + "Relationship").Single(r => (string?)r.Attribute("Id") == rid).Attribute("Target")!.Value;
        var sheetPath = target.StartsWith('/') ? target : "xl/" + target;

        var styles = Part("xl/styles.xml").Root!;
        var formats = styles.Element(Main + "numFmts")?.Elements(Main + "numFmt").ToDictionary(f => (int)f.Attribute("numFmtId")!, f => (string)f.Attribute("formatCode")!) ?? [];
        var xfs = styles.Element(Main + "cellXfs")!.Elements(Main + "xf").Select(x => (int?)x.Attribute("numFmtId") ?? 0).ToList();
        string? FormatOf(XElement c)
        {
            if (c.Attribute("s") is not { } s) return null;
            var id = xfs[int.Parse(s.Value)];
            return formats.TryGetValue(id, out var code) ? code : id switch { 0 => "General", 2 => "0.00", 4 => "#,##0.00", _ => $"builtin:{id}" };
        }
        string Text(XElement c) => (string?)c.Attribute("t") switch
        {
            "s" => shared[int.Parse(c.Element(Main + "v")!.Value)],
            "inlineStr" => string.Concat(c.Descendants(Main + "t").Select(t => t.Value)),
            _ => c.Element(Main + "v")?.Value ?? "",
        };
        static string ColumnOf(XElement c) => new(((string)c.Attribute("r")!).TakeWhile(char.IsLetter).ToArray());

        var rows = Part(sheetPath).Root!.Element(Main + "sheetData")!.Elements(Main + "row").ToList();
        var column = ColumnOf(rows[0].Elements(Main + "c").Single(c => Text(c) == header));
        return rows.Skip(1)
            .Select(r => r.Elements(Main + "c").SingleOrDefault(c => ColumnOf(c) == column))
            .Where(c => c is not null)
            .Select(c => new XlsxCell((string?)c!.Attribute("t"), FormatOf(c), Text(c)))
            .ToList();
    }
}
