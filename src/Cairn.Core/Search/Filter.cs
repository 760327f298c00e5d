using System.Globalization;
using System.Text;

namespace Cairn.Core.Search;

/// <summary>What a filter or ordering key names: a metric, a param, a tag or an attribute of the searched entity.</summary>
public enum FilterField
{
    /// <summary>The latest value of a run's metric.</summary>
    Metric,

    /// <summary>A run's param.</summary>
    Param,

    /// <summary>A tag.</summary>
    Tag,

    /// <summary>An attribute of the entity, such as a run's status or a model's name.</summary>
    Attribute,

    /// <summary>One of a run's dataset inputs (MLflow's <c>datasets.name</c>, <c>datasets.digest</c>, <c>datasets.context</c>): matches when any input does.</summary>
    Dataset,
}

/// <summary>A key in a filter or ordering: <c>metrics.auc</c>, <c>params.trainer</c>, <c>tags.team</c>, <c>attributes.status</c>.</summary>
/// <param name="Field">What kind of key it is.</param>
/// <param name="Name">The metric, param, tag or attribute name.</param>
/// <param name="IsNumeric">Whether its values compare as numbers.</param>
public sealed record FilterKey(FilterField Field, string Name, bool IsNumeric)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field.ToString().ToLowerInvariant()}s.{Name}";

    /// <summary>What a run's dataset inputs can be matched on.</summary>
    public static readonly IReadOnlyList<string> DatasetFields = ["name", "digest", "context"];
}

/// <summary>
/// What one kind of search can filter and order on: its attributes (each numeric or text) and whether it has
/// metrics and params. Runs, experiments, registered models and model versions each have one.
/// </summary>
/// <param name="Subject">The searched entity, as error messages name it.</param>
/// <param name="Attributes">The attribute names, with whether each compares as a number.</param>
/// <param name="HasMetricsAndParams">Whether <c>metrics.</c> and <c>params.</c> keys apply.</param>
public sealed record FilterVocabulary(string Subject, IReadOnlyDictionary<string, bool> Attributes, bool HasMetricsAndParams)
{
    /// <summary>Whether <c>datasets.</c> keys (the inputs a run read) apply.</summary>
    public bool HasDatasets { get; init; }

    /// <summary>Runs: metrics, params, tags and run attributes.</summary>
    public static readonly FilterVocabulary Runs = new("run", new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["run_id"] = false,
        ["run_name"] = false,
        ["status"] = false,
        ["user_id"] = false,
        ["parent_run_id"] = false,
        ["start_time"] = true,
        ["end_time"] = true,
    }, HasMetricsAndParams: true) { HasDatasets = true };

    /// <summary>Experiments: tags and experiment attributes.</summary>
    public static readonly FilterVocabulary Experiments = new("experiment", new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["experiment_id"] = true,
        ["name"] = false,
        ["creation_time"] = true,
        ["last_update_time"] = true,
    }, HasMetricsAndParams: false);

    /// <summary>Registered models: tags and model attributes.</summary>
    public static readonly FilterVocabulary RegisteredModels = new("registered model", new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["name"] = false,
        ["description"] = false,
        ["user_id"] = false,
        ["creation_timestamp"] = true,
        ["last_updated_timestamp"] = true,
    }, HasMetricsAndParams: false);

    /// <summary>Model versions: tags and version attributes.</summary>
    public static readonly FilterVocabulary ModelVersions = new("model version", new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["name"] = false,
        ["version_number"] = true,
        ["run_id"] = false,
        ["source_path"] = false,
        ["status"] = false,
        ["current_stage"] = false,
        ["user_id"] = false,
        ["creation_timestamp"] = true,
        ["last_updated_timestamp"] = true,
    }, HasMetricsAndParams: false);

    /// <summary>The key for an attribute of this vocabulary.</summary>
    public FilterKey Attribute(string name) => new(FilterField.Attribute, name, Attributes[name]);
}

/// <summary>A parsed filter: comparisons joined by AND and OR.</summary>
public abstract record Filter
{
    /// <summary>Both sides hold.</summary>
    public sealed record And(Filter Left, Filter Right) : Filter;

    /// <summary>Either side holds.</summary>
    public sealed record Or(Filter Left, Filter Right) : Filter;

    /// <summary>
    /// <c>key OP value</c>. <see cref="Operator"/> is one of =, !=, &lt;, &lt;=, &gt;, &gt;=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL;
    /// <see cref="Values"/> holds one value (two-sided operators), several (IN) or none (IS NULL).
    /// </summary>
    public sealed record Comparison(FilterKey Key, string Operator, IReadOnlyList<object> Values) : Filter;

    /// <summary>The longest filter text accepted, in characters.</summary>
    public const int MaxLength = 500_000;

    /// <summary>The deepest nesting of parentheses accepted; the parser recurses once per level, so this bounds its stack.</summary>
    public const int MaxDepth = 20;

    /// <summary>The most comparisons in one filter; each becomes a condition, and databases bound how deep those may nest.</summary>
    public const int MaxTerms = 200;

    /// <summary>The most values in all of a filter's IN lists together; each becomes a query parameter, which databases bound.</summary>
    public const int MaxValues = 10_000;

    /// <summary>
    /// Parses MLflow's filter language, plus OR, parentheses and IS [NOT] NULL; an error names the position. Filters beyond
    /// <see cref="MaxLength"/>, <see cref="MaxDepth"/>, <see cref="MaxTerms"/> or <see cref="MaxValues"/> are refused before they are
    /// parsed further, so no filter can exhaust the stack or the database's limits.
    /// </summary>
    public static Filter? Parse(string? text, FilterVocabulary vocabulary)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return text.Length > MaxLength
            ? throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                $"The filter is {text.Length:N0} characters long; the limit is {MaxLength:N0}."))
            : new FilterParser(text, vocabulary).ParseAll();
    }

    /// <summary>Parses an ordering such as <c>metrics.auc DESC</c>.</summary>
    public static (FilterKey Key, bool Descending) ParseOrderBy(string text, FilterVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new FilterParser(text, vocabulary).ParseOrderBy();
    }
}

internal sealed class FilterParser(string text, FilterVocabulary vocabulary)
{
    private int _position;
    private int _depth;
    private int _terms;
    private int _values;

    public Filter ParseAll()
    {
        var filter = ParseOr();
        SkipSpace();
        return _position < text.Length ? throw Error("expected AND, OR or the end of the filter") : filter;
    }

    public (FilterKey Key, bool Descending) ParseOrderBy()
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

    private Filter ParseOr()
    {
        var left = ParseAnd();
        while (TryKeyword("OR"))
        {
            left = new Filter.Or(left, ParseAnd());
        }

        return left;
    }

    private Filter ParseAnd()
    {
        var left = ParsePrimary();
        while (TryKeyword("AND"))
        {
            left = new Filter.And(left, ParsePrimary());
        }

        return left;
    }

    private Filter ParsePrimary()
    {
        SkipSpace();
        if (TryChar('('))
        {
            // Checked before recursing: a stack overflow cannot be caught, so the bound must hold first.
            if (++_depth > Filter.MaxDepth)
            {
                throw Error(string.Create(CultureInfo.InvariantCulture, $"parentheses nest deeper than the limit of {Filter.MaxDepth}"), _position - 1);
            }

            var inner = ParseOr();
            SkipSpace();
            _depth--;
            return TryChar(')') ? inner : throw Error("expected ')'");
        }

        if (++_terms > Filter.MaxTerms)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture, $"the filter has more than the limit of {Filter.MaxTerms} comparisons"));
        }

        var key = ParseKey();
        SkipSpace();
        var start = _position;
        var op = ParseOperator();
        return op switch
        {
            "IS NULL" or "IS NOT NULL" => new Filter.Comparison(key, op, []),
            "IN" or "NOT IN" => Checked(key, op, ParseList(), start),
            _ => Checked(key, op, [ParseValue()], start),
        };
    }

    private Filter.Comparison Checked(FilterKey key, string op, IReadOnlyList<object> values, int operatorAt)
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

        return new Filter.Comparison(key, op, values);
    }

    private FilterKey ParseKey()
    {
        SkipSpace();
        var start = _position;
        var word = ReadWord();
        var prefixes = vocabulary.HasDatasets ? "metrics., params., tags., datasets. or attributes."
            : vocabulary.HasMetricsAndParams ? "metrics., params., tags. or attributes." : "tags. or attributes.";
        if (word.Length == 0)
        {
            throw Error($"expected a key: {prefixes} followed by a name, or one of the {vocabulary.Subject} attributes {AttributeNames}");
        }

        var dot = word.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return vocabulary.Attributes.ContainsKey(word)
                ? vocabulary.Attribute(word)
                : throw Error($"'{word}' is not {Subject} attribute ({AttributeNames}); other keys need a prefix: {prefixes}", start);
        }

        var prefix = word[..dot].ToLowerInvariant();
        var name = word[(dot + 1)..];
        if (name.Length == 0 && _position < text.Length && text[_position] is '`' or '"')
        {
            name = ReadQuoted();
        }

        FilterField? field = prefix switch
        {
            "metrics" or "metric" when vocabulary.HasMetricsAndParams => FilterField.Metric,
            "params" or "param" or "parameters" or "parameter" when vocabulary.HasMetricsAndParams => FilterField.Param,
            "tags" or "tag" => FilterField.Tag,
            "attributes" or "attribute" or "attr" or "run" => FilterField.Attribute,
            "datasets" or "dataset" when vocabulary.HasDatasets => FilterField.Dataset,
            _ => null,
        };
        if (field is null)
        {
            throw Error($"'{prefix}' is not a prefix {Subject} search knows; use {prefixes}", start);
        }

        if (name.Length == 0)
        {
            throw Error($"'{prefix}.' needs a key after the dot", start);
        }

        if (field == FilterField.Attribute)
        {
            return vocabulary.Attributes.ContainsKey(name)
                ? vocabulary.Attribute(name)
                : throw Error($"'{name}' is not {Subject} attribute; use one of {AttributeNames}", start);
        }

        if (field == FilterField.Dataset && !FilterKey.DatasetFields.Contains(name))
        {
            throw Error($"'{name}' is not something a run's dataset inputs have; use datasets.{string.Join(", datasets.", FilterKey.DatasetFields)}", start);
        }

        return new FilterKey(field.Value, name, field == FilterField.Metric);
    }

    private string Subject => ("aeiou".Contains(vocabulary.Subject[0], StringComparison.Ordinal) ? "an " : "a ") + vocabulary.Subject;

    private string AttributeNames => string.Join(", ", vocabulary.Attributes.Keys);

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
        if (++_values > Filter.MaxValues)
        {
            throw Error(string.Create(CultureInfo.InvariantCulture, $"the filter has more than the limit of {Filter.MaxValues:N0} values"));
        }

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
        // The excerpt around the position, so an error about a long filter stays short.
        const int Context = 60;
        var position = at ?? _position;
        var start = Math.Max(0, position - Context);
        var end = Math.Min(text.Length, position + Context);
        var excerpt = (start > 0 ? "..." : "") + text[start..end] + (end < text.Length ? "..." : "");
        var caret = position - start + (start > 0 ? 3 : 0);
        return CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
            $"The filter is not valid at position {position + 1}: {message}.{Environment.NewLine}  {excerpt}{Environment.NewLine}  {new string(' ', caret)}^"));
    }
}
