using System.Globalization;
using System.Runtime.InteropServices;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>
/// The natural keys seen so far in one file, with the row each first appeared on. Keys live in one growing
/// character arena, not as a million strings: kept alive to the end of the file, such strings are copied by
/// the GC from generation to generation, which cost about a second per million rows.
/// </summary>
internal sealed class KeySet
{
    private readonly Dictionary<Slice, int> _rows;
    private char[] _arena = new char[1 << 16];
    private int _used;
    private char[] _composite = new char[256];

    public KeySet() => _rows = new Dictionary<Slice, int>(new SliceComparer(this));

    private readonly record struct Slice(int Start, int Length);

    /// <summary>Adds the key of a row; false and the first row when the file had it already.</summary>
    public bool TryAdd(object?[] values, int[] keyIndexes, int row, out int firstRow)
    {
        var key = keyIndexes.Length == 1 && values[keyIndexes[0]] is string single ? single.AsSpan() : Composite(values, keyIndexes);
        if (_arena.Length - _used < key.Length) Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + key.Length));
        key.CopyTo(_arena.AsSpan(_used));
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_rows, new Slice(_used, key.Length), out var exists);
        if (exists)
        {
            firstRow = slot;
            return false;
        }
        slot = row;
        _used += key.Length;
        firstRow = 0;
        return true;
    }

    private ReadOnlySpan<char> Composite(object?[] values, int[] keyIndexes)
    {
        var length = 0;
        foreach (var i in keyIndexes)
        {
            var part = values[i] switch
            {
                string s => s,
                DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
            };
            if (_composite.Length < length + part.Length + 1) Array.Resize(ref _composite, (length + part.Length + 1) * 2);
            part.CopyTo(_composite.AsSpan(length));
            length += part.Length;
            _composite[length++] = '\u001f'; // cannot occur in a field: control characters are refused
        }
        return _composite.AsSpan(0, length);
    }

    private sealed class SliceComparer(KeySet set) : IEqualityComparer<Slice>
    {
        private ReadOnlySpan<char> Of(Slice s) => set._arena.AsSpan(s.Start, s.Length);
        public bool Equals(Slice a, Slice b) => Of(a).SequenceEqual(Of(b));
        public int GetHashCode(Slice s) => string.GetHashCode(Of(s));
    }
}
