using System.Globalization;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// The one rule for text a person types into a single-line field (plan names, reasons, notes): at most
/// the form's <c>maxlength</c> characters (UTF-16 code units, as the browser counts them), and none of
/// the characters that break a line or reorder what is shown — control characters (C0, DEL, C1, so also
/// CR and LF), the line and paragraph separators U+2028/U+2029, the bidirectional embeddings and
/// overrides U+202A–U+202E and isolates U+2066–U+2069 — nor half a surrogate pair. Such text ends up in
/// mail subjects, calendar files, CSV exports and the audit log, where a line break or a reversed run
/// of text misleads the reader. The services call it, so the dashboard and the command line refuse
/// alike (<see cref="BadInputException"/>: 400 on a page, exit 65 on the command line).
/// </summary>
public static class TextRules
{
    /// <summary>Longest plan name (the form's maxlength).</summary>
    public const int NameMaxLength = 200;

    /// <summary>Longest reason or note (the forms' maxlength).</summary>
    public const int ReasonMaxLength = 500;

    /// <summary>A character that never belongs in a single-line field.</summary>
    public static bool IsForbiddenInSingleLine(char c) =>
        char.IsControl(c) // U+0000–U+001F, U+007F–U+009F: includes TAB, CR and LF
        || c is '\u2028' or '\u2029'
        || c is >= '\u202A' and <= '\u202E'
        || c is >= '\u2066' and <= '\u2069';

    /// <summary>A control character that belongs in no field at all; TAB, CR and LF only in multi-line text.</summary>
    public static bool IsForbiddenAnywhere(char c, bool multiLine) =>
        char.IsControl(c) && !(multiLine && c is '\t' or '\r' or '\n');

    /// <summary>
    /// The problem with <paramref name="value"/> as a single-line field, in Chinese with the English
    /// field name first (as the other input problems of the project), or null when it is acceptable.
    /// Length is checked on the trimmed text, characters on the whole.
    /// </summary>
    public static string? Problem(string? value, string field, string fieldZh, int maxLength, bool required = true)
    {
        // The whole value is scanned, not the trimmed one: U+2028/U+2029 count as white space and a trailing
        // line break would otherwise be trimmed away unseen.
        var text = value ?? "";
        if (text.Trim().Length == 0)
            return required ? $"{field}: required / 请填写{fieldZh}" : null;
        if (text.Trim().Length > maxLength)
            return string.Create(CultureInfo.InvariantCulture,
                $"{field}: at most {maxLength} characters, got {text.Trim().Length} / {fieldZh}最多 {maxLength} 个字符(现为 {text.Trim().Length} 个)");
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (IsForbiddenInSingleLine(c))
                return string.Create(CultureInfo.InvariantCulture,
                    $"{field}: contains U+{(int)c:X4} (a line break, control or text-direction character) at position {i + 1} / {fieldZh}不能包含换行、控制字符或文字方向控制字符(第 {i + 1} 个字符)");
            if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])))
                return $"{field}: contains an invalid character / {fieldZh}包含无效字符";
            if (char.IsHighSurrogate(c)) i++;
        }
        return null;
    }

    /// <summary>The trimmed text, or a <see cref="BadInputException"/> naming the problem.</summary>
    public static string SingleLine(string? value, string field, string fieldZh, int maxLength, bool required = true) =>
        Problem(value, field, fieldZh, maxLength, required) is { } problem ? throw new BadInputException(problem) : (value ?? "").Trim();
}
