namespace Cairn.Adapters.CompiledEngine;

/// <summary>
/// How a com.microsoft <c>Tokenizer</c> splits a row's text: into characters, or on single-character separators,
/// optionally between start (U+0002) and end (U+0003) marks, as ONNX Runtime's kernel does for one row.
/// </summary>
/// <param name="Characters">Split into characters (Unicode scalar values) instead of on separators.</param>
/// <param name="Separators">The characters that end a token.</param>
/// <param name="Mark">Whether a non-empty token list is framed by the start and end marks.</param>
/// <param name="MinLength">The fewest characters a token keeps; ONNX Runtime keeps the text's last token whatever its length.</param>
internal sealed record TextSplitter(bool Characters, char[] Separators, bool Mark, int MinLength)
{
    public const string Start = "\u0002";
    public const string End = "\u0003";
}

/// <summary>
/// A text input's tokens as integer ids: what a <c>Tokenizer</c>, the <c>LabelEncoder</c> that maps its tokens and
/// the casts after it compute, folded into one lookup that the n-gram counter runs per token.
/// </summary>
/// <param name="Text">The text input's index.</param>
/// <param name="Splitter">How the text is split.</param>
/// <param name="Ids">Each known token's id, already through every cast; null while the tokens are still strings.</param>
/// <param name="Unknown">The id of a token <paramref name="Ids"/> does not hold.</param>
internal sealed record TokenSequence(int Text, TextSplitter Splitter, Dictionary<string, long>? Ids, long Unknown);

/// <summary>Up to four token ids in a row: the key of an n-gram in a <c>TfIdfVectorizer</c>'s pool.</summary>
internal readonly record struct Ngram(long First, long Second, long Third, long Fourth, int Length)
{
    public const int MaxLength = 4;

    public static Ngram Of(ReadOnlySpan<long> items) => new(
        items[0], items.Length > 1 ? items[1] : 0, items.Length > 2 ? items[2] : 0, items.Length > 3 ? items[3] : 0, items.Length);

    public Ngram With(long next, int at) => at switch
    {
        0 => new(next, 0, 0, 0, 1),
        1 => this with { Second = next, Length = 2 },
        2 => this with { Third = next, Length = 3 },
        _ => this with { Fourth = next, Length = 4 },
    };
}

/// <summary>
/// <c>TfIdfVectorizer</c> over a <see cref="TokenSequence"/>: splits the row's text, maps each token to its id, counts
/// the pool's n-grams (with skips, the order ONNX Runtime counts them in) into a dense range, and weights the counts.
/// </summary>
internal sealed class CountNgrams : Kernel
{
    [ThreadStatic]
    private static long[]? t_ids;

    private readonly TokenSequence _tokens;
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _ids;
    private readonly Dictionary<Ngram, int> _pool;
    private readonly int _minLength;
    private readonly int _maxLength;
    private readonly int _maxSkip;
    private readonly Weighting _weighting;
    private readonly float[]? _weights;
    private readonly Slot _output;

    public CountNgrams(TokenSequence tokens, Dictionary<Ngram, int> pool, int minLength, int maxLength, int maxSkip, Weighting weighting, float[]? weights, Slot output)
    {
        _tokens = tokens;
        _ids = tokens.Ids!.GetAlternateLookup<ReadOnlySpan<char>>();
        (_pool, _minLength, _maxLength, _maxSkip, _weighting, _weights, _output) = (pool, minLength, maxLength, maxSkip, weighting, weights, output);
    }

    internal enum Weighting
    {
        Tf,
        Idf,
        TfIdf,
    }

    public override void Run(Span<float> row, string?[] texts)
    {
        var target = _output.Of(row);
        target.Clear();
        var ids = Tokenize(texts[_tokens.Text] ?? string.Empty);
        if (ids.Length > 0)
        {
            Count(ids, target);
        }

        if (_weighting == Weighting.Tf || (_weighting == Weighting.TfIdf && _weights is null))
        {
            return;
        }

        for (var i = 0; i < target.Length; i++)
        {
            target[i] = _weighting == Weighting.Idf ? (target[i] > 0 ? _weights?[i] ?? 1f : 0f) : target[i] * _weights![i];
        }
    }

    private void Count(ReadOnlySpan<long> ids, Span<float> target)
    {
        var first = _minLength;
        if (first == 1)
        {
            foreach (var id in ids)
            {
                Hit(new Ngram(id, 0, 0, 0, 1), target);
            }

            if (++first > _maxLength)
            {
                return;
            }
        }

        for (var skip = 1; skip <= _maxSkip + 1; skip++)
        {
            for (var start = 0; start + (skip * (first - 1)) < ids.Length; start++)
            {
                var gram = default(Ngram);
                for (int size = 1, at = start; size <= _maxLength && at < ids.Length; size++, at += skip)
                {
                    gram = gram.With(ids[at], size - 1);
                    if (size >= first)
                    {
                        Hit(gram, target);
                    }
                }
            }
        }
    }

    private void Hit(Ngram gram, Span<float> target)
    {
        if (_pool.TryGetValue(gram, out var at))
        {
            target[at]++;
        }
    }

    // The row's tokens as ids, in a per-thread buffer. An empty text has no tokens, and no marks either.
    private ReadOnlySpan<long> Tokenize(string text)
    {
        var splitter = _tokens.Splitter;
        var ids = t_ids is { } cached && cached.Length >= text.Length + 2 ? cached : t_ids = new long[Math.Max(256, text.Length + 2)];
        var count = 0;
        if (splitter.Mark)
        {
            ids[count++] = Id(TextSplitter.Start);
        }

        if (splitter.Characters)
        {
            Span<char> buffer = stackalloc char[2];
            foreach (var rune in text.EnumerateRunes())
            {
                ids[count++] = Id(buffer[..rune.EncodeToUtf16(buffer)]);
            }
        }
        else
        {
            var rest = text.AsSpan();
            while (rest.Length > 0)
            {
                var end = rest.IndexOfAny(splitter.Separators);
                var token = end < 0 ? rest : rest[..end];
                var last = end < 0;
                if (token.Length > 0 && (last || splitter.MinLength <= 1 || CharacterCount(token) >= splitter.MinLength))
                {
                    ids[count++] = Id(token);
                }

                rest = last ? default : rest[(end + 1)..];
            }
        }

        if (count == (splitter.Mark ? 1 : 0))
        {
            return default;
        }

        if (splitter.Mark)
        {
            ids[count++] = Id(TextSplitter.End);
        }

        return ids.AsSpan(0, count);
    }

    private long Id(ReadOnlySpan<char> token) => _ids.TryGetValue(token, out var id) ? id : _tokens.Unknown;

    // ONNX Runtime measures a token in code points (its wide characters are UTF-32 on Linux).
    private static int CharacterCount(ReadOnlySpan<char> token)
    {
        var count = 0;
        foreach (var _ in token.EnumerateRunes())
        {
            count++;
        }

        return count;
    }
}
