using System.Globalization;
using System.Text;

namespace Cairn.Core.Runs;

/// <summary>What a filter or ordering key names: a metric, a param, a tag or a run attribute.</summary>
public enum RunField
{
    /// <summary>The latest value of a metric.</summary>
    Metric,

    /// <summary>A param.</summary>
    Param,

    /// <summary>A tag.</summary>
    Tag,

    /// <summary>A run attribute: run_id, run_name, status, start_time, end_time, user_id.</summary>
    Attribute,
}

/// <summary>A key of a run: <c>metrics.auc</c>, <c>params.trainer</c>, <c>tags.team</c>, <c>attributes.status</c>.</summary>
public sealed record RunKey(RunField Field, string Name)
{
    /// <summary>The attributes a filter may name, with whether they compare as numbers.</summary>
    public static readonly IReadOnlyDictionary<string, bool> Attributes = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["run_id"] = false,
        ["run_name"] = false,
        ["status"] = false,
        ["user_id"] = false,
        ["start_time"] = true,
        ["end_time"] = true,
    };

    /// <summary>Whether values of this key compare as numbers.</summary>
    public bool IsNumeric => Field == RunField.Metric || (Field == RunField.Attribute && Attributes[Name]);

    /// <inheritdoc />
    public override string ToString() => $"{Field.ToString().ToLowerInvariant()}s.{Name}";
}

/// <summary>A parsed run filter: comparisons joined by AND and OR.</summary>
public abstract record RunFilter
{
    /// <summary>Both sides hold.</summary>
    public sealed record And(RunFilter Left, RunFilter Right) : RunFilter;

    /// <summary>Either side holds.</summary>
    public sealed record Or(RunFilter Left, RunFilter Right) : RunFilter;

    /// <summary>
    /// <c>key OP value</c>. <see cref="Operator"/> is one of =, !=, &lt;, &lt;=, &gt;, &gt;=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL;
    /// <see cref="Values"/> holds one value (two-sided operators), several (IN) or none (IS NULL).
    /// </summary>
    public sealed record Comparison(RunKey Key, string Operator, IReadOnlyList<object> Values) : RunFilter;

    /// <summary>Parses MLflow's run filter language, plus OR, parentheses and IS [NOT] NULL; an error names the position.</summary>
    public static RunFilter? Parse(string? text) => string.IsNullOrWhiteSpace(text) ? null : new FilterParser(text).ParseAll();

    /// <summary>Parses an ordering such as <c>metrics.auc DESC</c>.</summary>
    public static (RunKey Key, bool Descending) ParseOrderBy(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new FilterParser(text).ParseOrderBy();
    }
}

internal sealed class FilterParser(string text)
{
    private int _position;

    public RunFilter ParseAll()
    {
        var filter = ParseOr();
        SkipSpace();
        return _position < text.Length ? throw Error("expected AND, OR or the end of the filter") : filter;
    }

    public (RunKey Key, bool Descending) ParseOrderBy()
    {
        var key = ParseKey();
        var descending = false;
        if (TryKeyword("DESC"))
        {
            descending = true;
        }
        else
        {
            TryKeyword("ASC");
        }

        SkipSpace();
        return _position < text.Length ? throw Error("expected ASC, DESC or the end of the ordering") : (key, descending);
    }

    private RunFilter ParseOr()
    {
        var left = ParseAnd();
        while (TryKeyword("OR"))
        {
            left = new RunFilter.Or(left, ParseAnd());
        }

        return left;
    }

    private RunFilter ParseAnd()
    {
        var left = ParsePrimary();
        while (TryKeyword("AND"))
        {
            left = new RunFilter.And(left, ParsePrimary());
        }

        return left;
    }

    private RunFilter ParsePrimary()
    {
        SkipSpace();
        if (TryChar('('))
        {
            var inner = ParseOr();
            SkipSpace();
            return TryChar(')') ? inner : throw Error("expected ')'");
        }

        var key = ParseKey();
        SkipSpace();
        var start = _position;
        var op = ParseOperator();
        return op switch
        {
            "IS NULL" or "IS NOT NULL" => new RunFilter.Comparison(key, op, []),
            "IN" or "NOT IN" => Checked(key, op, ParseList(), start),
            _ => Checked(key, op, [ParseValue()], start),
        };
    }

    private RunFilter.Comparison Checked(RunKey key, string op, IReadOnlyList<object> values, int operatorAt)
    {
        if (key.IsNumeric)
        {
            if (op is "LIKE" or "ILIKE" or "IN" or "NOT IN")
            {
                throw Error($"{key} is numeric; {op} does not apply to it", operatorAt);
            }

            if (values.Any(v => v is not double))
            {
                throw Error($"{key} is numeric; compare it with a number", operatorAt);
            }
        }
        else
        {
            if (op is "<" or "<=" or ">" or ">=")
            {
                throw Error($"{key} is text; use =, !=, LIKE, ILIKE or IN", operatorAt);
            }

            if (values.Any(v => v is not string))
            {
                throw Error($"{key} is text; compare it with a quoted string", operatorAt);
            }
        }

        return new RunFilter.Comparison(key, op, values);
    }

    private RunKey ParseKey()
    {
        SkipSpace();
        var start = _position;
        var word = ReadWord();
        if (word.Length == 0)
        {
            throw Error("expected a key such as metrics.auc, params.trainer, tags.team or attributes.status");
        }

        var dot = word.IndexOf('.', StringComparison.Ordinal);
        string prefix;
        string name;
        if (dot < 0)
        {
            if (RunKey.Attributes.ContainsKey(word))
            {
                return new RunKey(RunField.Attribute, word);
            }

            throw Error($"'{word}' needs a prefix: metrics., params., tags. or attributes.", start);
        }

        prefix = word[..dot].ToLowerInvariant();
        name = word[(dot + 1)..];
        if (name.Length == 0 && _position < text.Length && text[_position] is '`' or '"')
        {
            name = ReadQuoted();
        }

        var field = prefix switch
        {
            "metrics" or "metric" => RunField.Metric,
            "params" or "param" or "parameters" or "parameter" => RunField.Param,
            "tags" or "tag" => RunField.Tag,
            "attributes" or "attribute" or "attr" or "run" => RunField.Attribute,
            _ => throw Error($"'{prefix}' is not metrics, params, tags or attributes", start),
        };
        if (name.Length == 0)
        {
            throw Error($"'{prefix}.' needs a key after the dot", start);
        }

        if (field == RunField.Attribute && !RunKey.Attributes.ContainsKey(name))
        {
            throw Error($"'{name}' is not a run attribute; use one of {string.Join(", ", RunKey.Attributes.Keys)}", start);
        }

        return new RunKey(field, name);
    }

    private string ParseOperator()
    {
        SkipSpace();
        foreach (var symbol in new[] { "!=", "<=", ">=", "=", "<", ">" })
        {
            if (string.CompareOrdinal(text, _position, symbol, 0, symbol.Length) == 0)
            {
                _position += symbol.Length;
                return symbol;
            }
        }

        if (TryKeyword("LIKE"))
        {
            return "LIKE";
        }

        if (TryKeyword("ILIKE"))
        {
            return "ILIKE";
        }

        if (TryKeyword("IN"))
        {
            return "IN";
        }

        if (TryKeyword("NOT"))
        {
            return TryKeyword("IN") ? "NOT IN" : throw Error("expected IN after NOT");
        }

        if (TryKeyword("IS"))
        {
            var negated = TryKeyword("NOT");
            return TryKeyword("NULL") ? negated ? "IS NOT NULL" : "IS NULL" : throw Error("expected NULL");
        }

        throw Error("expected an operator: =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL");
    }

    private List<object> ParseList()
    {
        SkipSpace();
        if (!TryChar('('))
        {
            throw Error("expected '(' to start the IN list");
        }

        var values = new List<object> { ParseValue() };
        SkipSpace();
        while (TryChar(','))
        {
            values.Add(ParseValue());
            SkipSpace();
        }

        return TryChar(')') ? values : throw Error("expected ',' or ')' in the IN list");
    }

    private object ParseValue()
    {
        SkipSpace();
        if (_position < text.Length && text[_position] is '\'' or '"')
        {
            return ReadQuoted();
        }

        var start = _position;
        while (_position < text.Length && (char.IsAsciiDigit(text[_position]) || text[_position] is '-' or '+' or '.' or 'e' or 'E'))
        {
            _position++;
        }

        return double.TryParse(text.AsSpan(start, _position - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw Error("expected a number or a quoted string", start);
    }

    private string ReadQuoted()
    {
        var quote = text[_position];
        var start = _position++;
        var value = new StringBuilder();
        while (_position < text.Length)
        {
            var c = text[_position++];
            if (c == quote)
            {
                if (_position < text.Length && text[_position] == quote)
                {
                    value.Append(quote);
                    _position++;
                    continue;
                }

                return value.ToString();
            }

            value.Append(c);
        }

        throw Error("this quoted text is never closed", start);
    }

    private string ReadWord()
    {
        var start = _position;
        while (_position < text.Length && (char.IsLetterOrDigit(text[_position]) || text[_position] is '_' or '.' or '-' or '/' or ':'))
        {
            _position++;
        }

        return text[start.._position];
    }

    private bool TryKeyword(string keyword)
    {
        SkipSpace();
        var end = _position + keyword.Length;
        if (end <= text.Length && string.Compare(text, _position, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) == 0 &&
            (end == text.Length || !(char.IsLetterOrDigit(text[end]) || text[end] == '_')))
        {
            _position = end;
            return true;
        }

        return false;
    }

    private bool TryChar(char c)
    {
        if (_position < text.Length && text[_position] == c)
        {
            _position++;
            return true;
        }

        return false;
    }

    private void SkipSpace()
    {
        while (_position < text.Length && char.IsWhiteSpace(text[_position]))
        {
            _position++;
        }
    }

    private CairnException Error(string message, int? at = null)
    {
        var position = at ?? _position;
        return CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
            $"The filter is not valid at position {position + 1}: {message}.{Environment.NewLine}  {text}{Environment.NewLine}  {new string(' ', position)}^"));
    }
}
