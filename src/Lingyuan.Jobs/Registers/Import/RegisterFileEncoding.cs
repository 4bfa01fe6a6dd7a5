using System.Text;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>
/// Register files come as UTF-8 (with or without BOM) or GB18030 (what Excel in China saves as "CSV").
/// Detection reads the file once before anything is imported: valid UTF-8 is UTF-8, otherwise it must be
/// valid GB18030; a forced encoding that does not fit the bytes is refused with a line saying why.
/// </summary>
public static class RegisterFileEncoding
{
    public static Encoding Utf8Strict { get; } = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>GB18030 comes from the code-pages provider (not built into .NET on Linux); strict, so bad bytes are errors, not '?'.</summary>
    public static Encoding Gb18030Strict { get; } = CreateGb18030();

    private static Encoding CreateGb18030()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding("GB18030", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
    }

    /// <summary>The encoding to read <paramref name="path"/> with; <paramref name="forced"/> is the --encoding value or null.</summary>
    public static Encoding Detect(string path, string? forced)
    {
        var file = Path.GetFileName(path);
        var head = new byte[4];
        int headLength;
        using (var s = File.OpenRead(path)) headLength = s.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        if (headLength >= 2 && (head[0], head[1]) is (0xFF, 0xFE) or (0xFE, 0xFF))
            throw new BadInputException($"{file}:1: encoding: the file is UTF-16, expected UTF-8 or GB18030 (save it as \"CSV UTF-8\")");
        var hasUtf8Bom = headLength >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF;

        var utf8Problem = FirstInvalid(path, Utf8Strict);
        switch (forced?.ToLowerInvariant())
        {
            case null:
                if (utf8Problem is null) return Utf8Strict;
                if (hasUtf8Bom)
                    throw new BadInputException($"{file}:{utf8Problem.Value.Line}: encoding: the file starts with a UTF-8 BOM but byte {utf8Problem.Value.Offset} is not valid UTF-8, expected one encoding throughout");
                var gbProblem = FirstInvalid(path, Gb18030Strict);
                if (gbProblem is null) return Gb18030Strict;
                throw new BadInputException($"{file}:{utf8Problem.Value.Line}: encoding: the file is neither UTF-8 (invalid byte at offset {utf8Problem.Value.Offset}) nor GB18030, expected one of them (save it as \"CSV UTF-8\")");
            case "utf-8" or "utf8":
                if (utf8Problem is { } p)
                    throw new BadInputException($"{file}:{p.Line}: encoding: byte {p.Offset} is not valid UTF-8 though --encoding utf-8 was given, expected UTF-8 (is the file GB18030? try --encoding gb18030 or leave --encoding out)");
                return Utf8Strict;
            case "gb18030" or "gbk" or "gb2312":
                if (hasUtf8Bom)
                    throw new BadInputException($"{file}:1: encoding: the file starts with a UTF-8 BOM though --encoding gb18030 was given, expected GB18030 (leave --encoding out for UTF-8 files)");
                if (utf8Problem is null && HasNonAscii(path))
                    throw new BadInputException($"{file}:1: encoding: the file is valid UTF-8 with Chinese text though --encoding gb18030 was given, expected GB18030 bytes (leave --encoding out or use --encoding utf-8)");
                if (FirstInvalid(path, Gb18030Strict) is { } g)
                    throw new BadInputException($"{file}:{g.Line}: encoding: byte {g.Offset} is not valid GB18030 though --encoding gb18030 was given, expected GB18030");
                return Gb18030Strict;
            default:
                throw new UsageException($"--encoding must be utf-8 or gb18030, got '{forced}' / --encoding 取值应为 utf-8 或 gb18030");
        }
    }

    /// <summary>The first byte the strict decoder refuses (offset, 1-based line) or null; streams the file in 1 MiB chunks.</summary>
    private static (long Offset, long Line)? FirstInvalid(string path, Encoding strict)
    {
        var decoder = strict.GetDecoder();
        var buffer = new byte[1 << 20];
        var chars = new char[strict.GetMaxCharCount(buffer.Length)];
        long offset = 0, lines = 1;
        using var s = File.OpenRead(path);
        int n;
        while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
        {
            try { decoder.GetChars(buffer, 0, n, chars, 0, flush: false); }
            catch (DecoderFallbackException ex)
            {
                var bad = Math.Clamp(ex.Index < 0 ? 0 : ex.Index, 0, n);
                return (offset + bad, lines + buffer.AsSpan(0, bad).Count((byte)'\n'));
            }
            lines += buffer.AsSpan(0, n).Count((byte)'\n');
            offset += n;
        }
        try { decoder.GetChars([], 0, 0, chars, 0, flush: true); }
        catch (DecoderFallbackException) { return (offset, lines); }
        return null;
    }

    private static bool HasNonAscii(string path)
    {
        var buffer = new byte[1 << 20];
        using var s = File.OpenRead(path);
        int n;
        while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
            if (buffer.AsSpan(0, n).IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0) return true;
        return false;
    }
}
