using System.Security.Claims;
using System.Text;

namespace Lingyuan.Jobs.Hosting;

/// <summary>
/// One allowed move of a record's lifecycle: from which states, to which state, and who may make it
/// (<see cref="Roles"/> empty = only the service itself, e.g. a job). <see cref="LabelZh"/> is the button
/// or history label people read.
/// </summary>
public sealed record Move<TState, TVerb>(TVerb Verb, TState[] From, TState To, string[] Roles, string LabelZh)
    where TState : struct, Enum
    where TVerb : struct, Enum;

/// <summary>
/// The lifecycle of one kind of record, written once: its states (an enum whose names map to the
/// database's snake_case text), their Chinese labels, and the table of allowed moves. Guards, buttons,
/// labels and the database's CHECK constraint all read (or are tested against) this table, so a state or
/// a move is added in one place.
/// </summary>
public sealed class StateTable<TState, TVerb>
    where TState : struct, Enum
    where TVerb : struct, Enum
{
    private readonly Dictionary<TState, string> _labels;
    private readonly Dictionary<TState, string> _db;
    private readonly Dictionary<string, TState> _byDb;

    public StateTable(string recordZh, IReadOnlyDictionary<TState, string> labels, IReadOnlyList<Move<TState, TVerb>> moves)
    {
        RecordZh = recordZh;
        _labels = new Dictionary<TState, string>(labels);
        foreach (var s in Enum.GetValues<TState>())
            if (!_labels.ContainsKey(s)) throw new InvalidOperationException($"{typeof(TState).Name}.{s} has no Chinese label");
        _db = Enum.GetValues<TState>().ToDictionary(s => s, s => SnakeCase(s.ToString()));
        _byDb = _db.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
        Moves = moves;
    }

    /// <summary>What the record is called in messages, e.g. 批次.</summary>
    public string RecordZh { get; }

    public IReadOnlyList<Move<TState, TVerb>> Moves { get; }

    public IEnumerable<TState> States => Enum.GetValues<TState>();

    /// <summary>The database's text for a state: <c>NoticeSent</c> → <c>notice_sent</c>.</summary>
    public string Db(TState state) => _db[state];

    public TState Parse(string db) =>
        _byDb.TryGetValue(db, out var s) ? s : throw new InvalidOperationException($"unknown {typeof(TState).Name} '{db}' in the database");

    public string Label(TState state) => _labels[state];

    /// <summary>The label of a state as stored; unknown text is shown as it is.</summary>
    public string Label(string db) => _byDb.TryGetValue(db, out var s) ? _labels[s] : db;

    public Move<TState, TVerb> MoveOf(TVerb verb) =>
        Moves.FirstOrDefault(m => EqualityComparer<TVerb>.Default.Equals(m.Verb, verb))
        ?? throw new InvalidOperationException($"no move {verb} in the {typeof(TState).Name} table");

    public bool Allows(TVerb verb, TState from) => MoveOf(verb).From.Contains(from);

    /// <summary>Whether <paramref name="user"/> may make the move now (for buttons: a hidden button is not a guard).</summary>
    public bool Offers(TVerb verb, TState from, ClaimsPrincipal user) =>
        Allows(verb, from) && MoveOf(verb).Roles.Any(user.IsInRole);

    /// <summary>The guard of a move: throws the Chinese refusal when the record is in another state.</summary>
    public Move<TState, TVerb> Require(TVerb verb, TState from, string recordId)
    {
        var move = MoveOf(verb);
        if (!move.From.Contains(from))
        {
            var allowed = string.Join("、", move.From.Select(Label));
            throw new DomainRuleException(
                $"{typeof(TState).Name} {recordId} is {Db(from)}; {verb} needs {string.Join("|", move.From.Select(Db))} / "
                + $"{RecordZh}{recordId}当前状态为「{Label(from)}」,只有「{allowed}」状态可以{move.LabelZh}");
        }
        return move;
    }

    /// <summary>The states as a SQL list, <c>'draft', 'submitted', …</c>, for a CHECK constraint and its test.</summary>
    public string SqlList() => string.Join(", ", States.Select(s => $"'{Db(s)}'"));

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
