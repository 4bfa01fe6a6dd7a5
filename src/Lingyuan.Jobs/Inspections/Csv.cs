using System.Text;

namespace Lingyuan.Jobs.Inspections;

/// <summary>Minimal RFC 4180 CSV for the results file and the public list (quoted fields, "" escapes, CRLF or LF).</summary>
public static class Csv
{
    /// <summary>Records with the 1-based line each starts on; throws <see cref="FormatException"/> on an unterminated quote.</summary>
    public static IEnumerable<(int Line, List<string> Fields)> Read(TextReader reader)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, startLine = 1;
        var quoted = false;
        var any = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append((char)c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; any = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    if (any || field.Length > 0) { fields.Add(field.ToString()); yield return (startLine, fields); }
                    fields = []; field.Clear(); any = false; line++; startLine = line;
                    break;
                default: field.Append((char)c); any = true; break;
            }
        }
        if (quoted) throw new FormatException($"line {startLine}: a quoted field is not closed");
        if (any || field.Length > 0) { fields.Add(field.ToString()); yield return (startLine, fields); }
    }

    public static void WriteRow(StringBuilder sb, IEnumerable<string> fields)
    {
        var first = true;
        foreach (var f in fields)
        {
            if (!first) sb.Append(',');
            first = false;
            if (f.AsSpan().IndexOfAny(",\"\r\n") >= 0) sb.Append('"').Append(f.Replace("\"", "\"\"")).Append('"');
            else sb.Append(f);
        }
        sb.Append("\r\n");
    }
}
