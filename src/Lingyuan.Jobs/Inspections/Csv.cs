using System.Text;

namespace Lingyuan.Jobs.Inspections;

/// <summary>CSV for the results file (read with Sylvan.Data.Csv, as the register import does) and the public list.</summary>
public static class Csv
{
    /// <summary>Longest record accepted: a results file line is short; a longer one is a broken file, not a reason to use more memory.</summary>
    private const int MaxRecordChars = 1 << 20;

    /// <summary>Records with their 1-based record number (the header is record 1, as a spreadsheet counts rows).</summary>
    public static IEnumerable<(int Line, List<string> Fields)> Read(TextReader reader)
    {
        using var csv = Sylvan.Data.Csv.CsvDataReader.Create(reader, new Sylvan.Data.Csv.CsvDataReaderOptions
        {
            HasHeaders = false,
            BufferSize = MaxRecordChars,
            MaxBufferSize = MaxRecordChars,
            ResultSetMode = Sylvan.Data.Csv.ResultSetMode.SingleResult,
        });
        var record = 0;
        while (Read(csv))
        {
            record++;
            var fields = new List<string>(csv.RowFieldCount);
            for (var i = 0; i < csv.RowFieldCount; i++) fields.Add(csv.GetString(i));
            if (fields.Count == 1 && fields[0].Length == 0) continue; // a blank line
            yield return (record, fields);
        }
    }

    private static bool Read(Sylvan.Data.Csv.CsvDataReader csv)
    {
        try { return csv.Read(); }
        catch (Sylvan.Data.Csv.CsvFormatException ex) { throw new FormatException($"line {ex.RowNumber}: {ex.Message}", ex); }
    }

    private static readonly Sylvan.Data.Csv.CsvDataWriterOptions RowOptions = new()
    {
        WriteHeaders = false,
        NewLine = "\r\n",
        Culture = System.Globalization.CultureInfo.InvariantCulture,
    };

    /// <summary>Appends one CSV record (CRLF, quoted only where needed) written by Sylvan's CSV writer.</summary>
    public static void WriteRow(StringBuilder sb, IEnumerable<string> fields)
    {
        var values = fields.ToArray();
        using var table = new System.Data.DataTable();
        for (var i = 0; i < values.Length; i++) table.Columns.Add($"c{i}", typeof(string));
        table.Rows.Add(values);
        using var writer = new StringWriter(sb, System.Globalization.CultureInfo.InvariantCulture);
        using var csv = Sylvan.Data.Csv.CsvDataWriter.Create(writer, RowOptions);
        csv.Write(table.CreateDataReader());
    }
}
