using System.Text;
using CsCheck;
using Lingyuan.Jobs.Inspections;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>The public lists' CSV is written and read by the same library (Sylvan.Data.Csv): any text comes back whole.</summary>
public class CsvFacts
{
    [Fact]
    public void A_record_is_quoted_only_where_needed_and_ends_with_CRLF()
    {
        var sb = new StringBuilder();
        Csv.WriteRow(sb, ["序号", "a,b", "say \"hi\"", "two\nlines", ""]);
        Assert.Equal("序号,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n", sb.ToString());
    }

    [Fact]
    public void Any_fields_written_read_back_the_same()
    {
        Gen.String[",\"\r\n a中文·"].Array[1, 6].Array[1, 5].Sample(rows =>
        {
            // A record of one empty field is a blank line, which the reader skips; give it a second field.
            rows = rows.Select(r => r.Length == 1 && r[0].Length == 0 ? new[] { "", "x" } : r).ToArray();
            var sb = new StringBuilder();
            foreach (var r in rows) Csv.WriteRow(sb, r);
            var back = Csv.Read(new StringReader(sb.ToString())).Select(x => x.Fields.ToArray()).ToArray();
            Assert.Equal(rows.Length, back.Length);
            for (var i = 0; i < rows.Length; i++) Assert.Equal(rows[i], back[i]);
        }, iter: 300);
    }
}
