using NpgsqlTypes;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>One column of a register file: its CSV name, where it lands, and how its text is checked.</summary>
/// <param name="Name">the header name in the file (INTERFACES.md, Register files)</param>
/// <param name="DbColumn">the column of the register table (e.g. <c>monthly_amount</c> → <c>monthly_amount_fen</c>)</param>
/// <param name="DbType">the binary COPY type of the parsed value</param>
/// <param name="Optional">the file may leave the column out; then the register keeps what it has</param>
public sealed record ImportColumn(string Name, string DbColumn, NpgsqlDbType DbType, FieldParser Parse, bool Optional = false)
{
    public ImportColumn(string name, NpgsqlDbType dbType, FieldParser parse, bool optional = false) : this(name, name, dbType, parse, optional) { }

    /// <summary>The Chinese header a bureau's spreadsheet uses (身份证号码); accepted beside <see cref="Name"/>, and the header of the templates.</summary>
    public string? Chinese { get; init; }

    /// <summary>Whether a header cell names this column, in English (any case) or in Chinese.</summary>
    public bool Named(string header) =>
        Name.Equals(header, StringComparison.OrdinalIgnoreCase) || (Chinese is not null && Chinese == header);
}

/// <summary>A problem that involves several fields of a row (e.g. a period ending before it starts).</summary>
public readonly record struct RowProblem(string Column, string Message);

/// <summary>The parsed values of one row, by CSV column name; optional columns absent from the file read as null.</summary>
public sealed class RowValues(IReadOnlyDictionary<string, int> slots, object?[] values)
{
    public object? this[string column] => slots.TryGetValue(column, out var i) ? values[i] : null;
}

/// <summary>
/// A kind of register file that <c>import KIND FILE</c> understands. The frame (<see cref="RegisterImporter"/>)
/// does the rest from this declaration: header check, per-field parsing, natural-key duplicates, binary COPY
/// into a staging table shaped like <see cref="Table"/>, the audited set-based upsert on <see cref="Key"/>.
/// Features add kinds with <c>services.AddImportKind(...)</c>.
/// </summary>
/// <param name="Name">the KIND argument, e.g. <c>persons</c></param>
/// <param name="Table">the register table, e.g. <c>app.persons</c>; it has a unique key on the key columns and an <c>updated_at</c> column</param>
/// <param name="Key">CSV names of the natural key (the first column of the file, or first two/three)</param>
/// <param name="RowCheck">rules across fields of one row, run when every field parsed</param>
/// <param name="Apply">
/// replaces the default upsert for a file that is not a register (e.g. a bank return file to reconcile): it runs
/// in the import's transaction, reads the validated rows from the temporary table <c>import_stage</c> (shaped
/// like <see cref="Table"/>), and returns what it inserted and updated. Under --dry-run it runs and is rolled back.
/// </param>
public sealed record ImportKind(
    string Name,
    string Table,
    IReadOnlyList<ImportColumn> Columns,
    IReadOnlyList<string> Key,
    Func<RowValues, RowProblem?>? RowCheck = null,
    Func<ImportApplyContext, Task<(long Inserted, long Updated)>>? Apply = null)
{
    public ImportColumn Column(string name) => Columns.First(c => c.Name == name);

    /// <summary>
    /// A rule over the whole file (e.g. a year of the holiday calendar has a plausible number of working days): runs in
    /// the import's transaction once the valid rows are in <c>import_stage</c>, before anything is written, also under
    /// --dry-run. Each returned line (without the file name) is a problem; with any, nothing is imported (exit 65).
    /// </summary>
    public Func<ImportApplyContext, Task<IReadOnlyList<string>>>? Check { get; init; }
}

/// <summary>What a kind's own <see cref="ImportKind.Apply"/> step gets: the import's open transaction and who asked.</summary>
public sealed record ImportApplyContext(
    Npgsql.NpgsqlConnection Connection, Npgsql.NpgsqlTransaction Transaction, string Actor, string File, bool DryRun, CancellationToken Cancellation);

/// <summary>All kinds known to this process, by name.</summary>
public sealed class ImportKinds(IEnumerable<ImportKind> kinds)
{
    private readonly Dictionary<string, ImportKind> _byName = kinds.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    public ImportKind? Find(string name) => _byName.GetValueOrDefault(name);
}

public static class ImportKindRegistration
{
    /// <summary>Makes <c>import NAME FILE</c> load files of this kind (e.g. inspection results, bank returns).</summary>
    public static IServiceCollection AddImportKind(this IServiceCollection services, ImportKind kind)
    {
        services.AddSingleton(kind);
        return services;
    }

    /// <summary>A kind whose declaration needs services (e.g. settings for its <see cref="ImportKind.Check"/>).</summary>
    public static IServiceCollection AddImportKind(this IServiceCollection services, Func<IServiceProvider, ImportKind> kind)
    {
        services.AddSingleton(kind);
        return services;
    }
}
