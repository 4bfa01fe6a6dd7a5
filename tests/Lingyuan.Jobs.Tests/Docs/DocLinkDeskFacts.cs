using System.Text.RegularExpressions;

namespace Lingyuan.Jobs.Tests.Docs;

/// <summary>
/// Issue 19: the README and the project's own docs are read from a clone, so every relative link in them must
/// name a file or folder of the repository (no <c>../shared/docs/</c>, no files a clone does not have), and their
/// tables must not be split by a blank line.
/// </summary>
public sealed partial class DocLinkDeskFacts
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lingyuan.Jobs.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Lingyuan.Jobs.sln) not found above " + AppContext.BaseDirectory);
    }

    public static IEnumerable<object[]> Documents()
    {
        var root = RepoRoot();
        yield return ["README.md"];
        foreach (var f in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
            yield return [Path.GetRelativePath(root, f)];
    }

    // [text](target) and [text](target "title"); images too. Code spans are removed first.
    [GeneratedRegex(@"\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    // Reference definitions: [name]: target
    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", RegexOptions.Multiline)]
    private static partial Regex ReferenceLink();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex CodeSpan();

    private static string WithoutCode(string markdown)
    {
        var lines = markdown.Split('\n');
        var kept = new List<string>();
        var fenced = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; kept.Add(""); continue; }
            kept.Add(fenced ? "" : CodeSpan().Replace(line, ""));
        }
        return string.Join('\n', kept);
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_relative_link_resolves_to_a_file_of_the_repository(string document)
    {
        var root = RepoRoot();
        var path = Path.Combine(root, document);
        var text = WithoutCode(File.ReadAllText(path));
        var targets = InlineLink().Matches(text).Select(m => m.Groups[1].Value)
            .Concat(ReferenceLink().Matches(text).Select(m => m.Groups[1].Value))
            .ToList();
        var broken = new List<string>();
        foreach (var target in targets)
        {
            if (Regex.IsMatch(target, "^[a-zA-Z][a-zA-Z0-9+.-]*:") || target.StartsWith('#')) continue; // http:, mailto:, in-page anchors
            var file = Uri.UnescapeDataString(target.Split('#')[0].Split('?')[0]);
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            var inside = resolved == root || resolved.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
            if (!inside || !(File.Exists(resolved) || Directory.Exists(resolved)))
                broken.Add($"{target} -> {Path.GetRelativePath(root, resolved)}{(inside ? "" : " (outside the repository)")}");
        }
        Assert.True(broken.Count == 0, $"{document}: links that do not resolve inside the repository:\n{string.Join("\n", broken)}");
        Assert.DoesNotContain("shared/docs", text);
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void No_table_is_split_by_a_blank_line(string document)
    {
        var lines = WithoutCode(File.ReadAllText(Path.Combine(RepoRoot(), document))).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        static bool IsRow(string l) => l.TrimStart().StartsWith('|');
        static bool IsDelimiter(string l) => Regex.IsMatch(l, @"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$");
        for (var i = 0; i < lines.Count; i++)
        {
            if (!IsDelimiter(lines[i])) continue;
            // The rows of this table end at the first line that is not a row; a row after one blank line would be a table without a header.
            var j = i + 1;
            while (j < lines.Count && IsRow(lines[j])) j++;
            var k = j;
            while (k < lines.Count && lines[k].Trim().Length == 0) k++;
            Assert.False(k > j && k < lines.Count && IsRow(lines[k]) && !(k + 1 < lines.Count && IsDelimiter(lines[k + 1])),
                $"{document}: the table at line {i} is split by a blank line before line {k + 1}: '{(k < lines.Count ? lines[k] : "")}'");
        }
    }
}
