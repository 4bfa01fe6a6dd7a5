using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// A piece of HTML that is already safe. Build it with <see cref="Of"/>: every interpolated value is
/// HTML-encoded unless it is itself an <see cref="Html"/>, so register names (which may hold markup
/// or script) are escaped by default and only deliberate markup is raw.
/// </summary>
public readonly struct Html(string value)
{
    public string Value { get; } = value ?? "";
    public static readonly Html Empty = new("");

    public static Html Of([InterpolatedStringHandlerArgument] HtmlHandler handler) => handler.ToHtml();

    /// <summary>Trusted markup, e.g. a constant. Never pass register data here.</summary>
    public static Html Raw(string markup) => new(markup);

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Value)));

    // Chinese text stays readable in the page source; only markup-significant characters are encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All);

    public static string Encode(string? text) => Encoder.Encode(text ?? "");

    public override string ToString() => Value;
}

[InterpolatedStringHandler]
public ref struct HtmlHandler
{
    private readonly StringBuilder _sb;

    public HtmlHandler(int literalLength, int formattedCount) => _sb = new StringBuilder(literalLength + formattedCount * 16);

    public void AppendLiteral(string s) => _sb.Append(s);

    public void AppendFormatted(Html html) => _sb.Append(html.Value);

    public void AppendFormatted(IEnumerable<Html> parts)
    {
        foreach (var p in parts) _sb.Append(p.Value);
    }

    public void AppendFormatted<T>(T value) => _sb.Append(Html.Encode(Convert.ToString(value, CultureInfo.InvariantCulture)));

    public void AppendFormatted<T>(T value, string format) where T : IFormattable =>
        _sb.Append(Html.Encode(value.ToString(format, CultureInfo.InvariantCulture)));

    public readonly Html ToHtml() => new(_sb.ToString());
}
