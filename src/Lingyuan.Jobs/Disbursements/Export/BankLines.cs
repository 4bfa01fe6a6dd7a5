using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Lingyuan.Jobs.Database;
using Npgsql;
using NpgsqlTypes;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// Writes the bank file's D lines, <c>D,LINE_REF,BANK_CODE,BANK_ACCOUNT,ACCOUNT_NAME,AMOUNT_YUAN,BENEFIT</c>,
/// from a query of <c>(id bigint, bank_code, bank_account, account_name text, amount_fen bigint, benefit text)</c>.
/// The rows are read with Npgsql's binary exporter and formatted here, byte for byte as PostgreSQL's
/// <c>COPY … (FORMAT csv)</c> writes them (a field is quoted when it is empty or holds <c>,</c> <c>"</c> CR or
/// LF, quotes doubled; NULL is empty) — the format approvals before this code hashed, and
/// <c>BankLinesFacts</c> compares the two. That quoting rule (an empty string quoted, NULL empty) is the bank
/// file's definition, so it is written here rather than by a general CSV writer.
/// </summary>
internal static class BankLines
{
    private const int Block = 1 << 16;

    // One query makes the bytes for approval and for export: the hash cannot drift from the file.
    private static string Select(long batchId) => string.Create(CultureInfo.InvariantCulture, $"""
        SELECT id, bank_code, bank_account, account_name, amount_fen, benefit
        FROM app.disbursement_lines
        WHERE batch_id = {batchId} AND status = 'payable'
        ORDER BY id
        """);

    /// <summary>The SHA-256 of a batch's D lines (approval), nothing written.</summary>
    public static Task<string> HashAsync(UnitOfWork uow, long batchId) =>
        WriteAsync(uow.Connection, Select(batchId), Stream.Null, uow.Cancellation);

    /// <summary>Streams a batch's D lines to <paramref name="output"/>; returns their SHA-256 (lower-case hex).</summary>
    public static Task<string> WriteAsync(UnitOfWork uow, long batchId, Stream output) =>
        WriteAsync(uow.Connection, Select(batchId), output, uow.Cancellation);

    /// <summary>Streams the lines of <paramref name="select"/> to <paramref name="output"/>; returns their SHA-256 (lower-case hex).</summary>
    public static async Task<string> WriteAsync(NpgsqlConnection conn, string select, Stream output, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var lines = ArrayPool<byte>.Shared.Rent(2 * Block);
        var field = ArrayPool<byte>.Shared.Rent(Block);
        var used = 0;
        var fields = new string?[4];
        try
        {
            await using var export = await conn.BeginBinaryExportAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", ct);
            // Synchronous reads: a row is six small fields, nearly always in Npgsql's buffer already.
            while (export.StartRow() != -1)
            {
                var id = export.Read<long>(NpgsqlDbType.Bigint);
                fields[0] = Text(export);
                fields[1] = Text(export);
                fields[2] = Text(export);
                if (export.IsNull) throw new InvalidDataException("a bank line's amount is NULL");
                var fen = export.Read<long>(NpgsqlDbType.Bigint);
                fields[3] = Text(export);
                if (fen < 0) throw new InvalidDataException("a bank line's amount is negative");

                // Worst case: every byte of a text field doubled, plus quotes, numbers and separators.
                var need = 64;
                foreach (var f in fields) need += f is null ? 0 : 2 * Encoding.UTF8.GetMaxByteCount(f.Length) + 2;
                if (lines.Length - used < need)
                {
                    used = await FlushAsync(used);
                    if (lines.Length < need) Grow(ref lines, need);
                }
                used += Format(id, fields, fen, lines.AsSpan(used), ref field);
                if (used >= Block) used = await FlushAsync(used);
            }
            await FlushAsync(used);
            return Convert.ToHexStringLower(hash.GetHashAndReset());

            async Task<int> FlushAsync(int count)
            {
                hash.AppendData(lines, 0, count);
                await output.WriteAsync(lines.AsMemory(0, count), ct);
                return 0;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(lines);
            ArrayPool<byte>.Shared.Return(field);
        }
    }

    private static string? Text(NpgsqlBinaryExporter export)
    {
        if (!export.IsNull) return export.Read<string>(NpgsqlDbType.Text);
        export.Skip();
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Format(long id, string?[] fields, long fen, Span<byte> o, ref byte[] scratch)
    {
        var w = 0;
        o[w++] = (byte)'D';
        o[w++] = (byte)',';
        w += Digits(id, o[w..]);
        for (var i = 0; i < 3; i++)
        {
            o[w++] = (byte)',';
            w += CsvField(fields[i], o[w..], ref scratch);
        }
        o[w++] = (byte)',';
        w += Digits(fen / 100, o[w..]);
        o[w++] = (byte)'.';
        o[w++] = (byte)('0' + fen % 100 / 10);
        o[w++] = (byte)('0' + fen % 10);
        o[w++] = (byte)',';
        w += CsvField(fields[3], o[w..], ref scratch);
        o[w++] = (byte)'\n';
        return w;
    }

    private static int Digits(long value, Span<byte> o)
    {
        value.TryFormat(o, out var written, default, CultureInfo.InvariantCulture);
        return written;
    }

    // As PostgreSQL's CSV output: NULL empty; an empty string, or one holding the delimiter, the quote, CR or LF,
    // quoted with its quotes doubled. Byte-wise is exact in UTF-8: no multi-byte character contains an ASCII byte.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int CsvField(string? text, Span<byte> o, ref byte[] scratch)
    {
        if (text is null) return 0;
        if (text.Length == 0) { o[0] = (byte)'"'; o[1] = (byte)'"'; return 2; }
        if (text.AsSpan().IndexOfAny(",\"\r\n") < 0) return Encoding.UTF8.GetBytes(text, o);
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (scratch.Length < max) Grow(ref scratch, max);
        var value = scratch.AsSpan(0, Encoding.UTF8.GetBytes(text, scratch));
        var w = 0;
        o[w++] = (byte)'"';
        foreach (var b in value)
        {
            if (b == (byte)'"') o[w++] = b;
            o[w++] = b;
        }
        o[w++] = (byte)'"';
        return w;
    }

    private static void Grow(ref byte[] buffer, int atLeast)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(atLeast, 2 * buffer.Length));
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }
}
