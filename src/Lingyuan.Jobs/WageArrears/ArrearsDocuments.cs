using System.Text;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>A notice or decision as issued: rendered once as printable HTML (every value escaped) and once as plain text for the mail.</summary>
public sealed record Doc(string Title, string? DocNo, string? Addressee, IReadOnlyList<DocBlock> Blocks, string Issuer, DateOnly IssuedOn);

public abstract record DocBlock;
public sealed record Para(string Text) : DocBlock;
public sealed record Heading(string Text) : DocBlock;
public sealed record Fields(IReadOnlyList<(string Label, string Value)> Rows) : DocBlock;
public sealed record Numbered(IReadOnlyList<string> Items) : DocBlock;
public sealed record Table(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : DocBlock;

public static class DocRender
{
    public static string DateZh(DateOnly d) => $"{d.Year}年{d.Month}月{d.Day}日";

    private const string Css = """
        body{font-family:"Noto Serif CJK SC","SimSun",serif;max-width:46em;margin:2em auto;line-height:1.8;color:#000}
        h1{text-align:center;font-size:1.5em}
        .docno{text-align:center}
        p{text-indent:2em;margin:.4em 0}
        p.addressee{text-indent:0}
        table{border-collapse:collapse;margin:.5em 0;width:100%}
        th,td{border:1px solid #444;padding:.2em .5em;text-align:left;vertical-align:top}
        .issuer{text-align:right;margin-top:2em}
        """;

    public static string Html(Doc d)
    {
        var blocks = d.Blocks.Select(b => b switch
        {
            Para p => Dashboard.Html.Of($"<p>{p.Text}</p>"),
            Heading h => Dashboard.Html.Of($"<h2>{h.Text}</h2>"),
            Fields f => Dashboard.Html.Of($"<table>{f.Rows.Select(r => Dashboard.Html.Of($"<tr><th>{r.Label}</th><td>{r.Value}</td></tr>"))}</table>"),
            Numbered n => Dashboard.Html.Of($"<ol>{n.Items.Select(i => Dashboard.Html.Of($"<li>{i}</li>"))}</ol>"),
            Table t => Dashboard.Html.Of($"""
                <table><thead><tr>{t.Header.Select(h => Dashboard.Html.Of($"<th>{h}</th>"))}</tr></thead>
                <tbody>{t.Rows.Select(r => Dashboard.Html.Of($"<tr>{r.Select(c => Dashboard.Html.Of($"<td>{c}</td>"))}</tr>"))}</tbody></table>
                """),
            _ => throw new ArgumentOutOfRangeException(nameof(d), b.GetType().Name, "unknown block"),
        });
        return Dashboard.Html.Of($"""
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><title>{d.Title}</title><style>{Dashboard.Html.Raw(Css)}</style></head>
            <body>
            <h1>{d.Title}</h1>
            {(d.DocNo is null ? Dashboard.Html.Empty : Dashboard.Html.Of($"<p class=\"docno\">{d.DocNo}</p>"))}
            {(d.Addressee is null ? Dashboard.Html.Empty : Dashboard.Html.Of($"<p class=\"addressee\">{d.Addressee}:</p>"))}
            {blocks}
            <p class="issuer">{d.Issuer}<br>{DateZh(d.IssuedOn)}</p>
            </body></html>
            """).Value;
    }

    public static string Text(Doc d)
    {
        var sb = new StringBuilder();
        sb.AppendLine(d.Title);
        if (d.DocNo is not null) sb.AppendLine(d.DocNo);
        sb.AppendLine();
        if (d.Addressee is not null) sb.AppendLine($"{d.Addressee}:");
        foreach (var b in d.Blocks)
        {
            switch (b)
            {
                case Para p: sb.AppendLine($"    {p.Text}"); break;
                case Heading h: sb.AppendLine().AppendLine(h.Text); break;
                case Fields f: foreach (var (label, value) in f.Rows) sb.AppendLine($"  {label}:{value}"); break;
                case Numbered n: for (var i = 0; i < n.Items.Count; i++) sb.AppendLine($"  {i + 1}. {n.Items[i]}"); break;
                case Table t:
                    sb.AppendLine("  " + string.Join(" | ", t.Header));
                    foreach (var r in t.Rows) sb.AppendLine("  " + string.Join(" | ", r));
                    break;
            }
        }
        sb.AppendLine().AppendLine(d.Issuer).AppendLine(DateZh(d.IssuedOn));
        return sb.ToString();
    }
}
