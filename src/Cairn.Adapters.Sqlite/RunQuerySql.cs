using System.Globalization;
using System.Text;
using Cairn.Core.Runs;

namespace Cairn.Adapters.Sqlite;

/// <summary>
/// Translates a <see cref="RunQuery"/> into SQLite SQL over <c>runs r</c>. Every value from the caller becomes a
/// parameter; only fixed column names and operators are written into the text.
/// </summary>
internal sealed class RunQuerySql
{
    private readonly List<(string Name, object? Value)> _parameters = [];

    public IReadOnlyList<(string Name, object? Value)> Parameters => _parameters;

    public string Where(RunQuery query)
    {
        var experiments = string.Join(", ", query.ExperimentIds.Select(id => Parameter(long.Parse(id, CultureInfo.InvariantCulture))));
        var clauses = new List<string> { $"r.experiment_id IN ({experiments})" };
        if (query.Lifecycle is { } stage)
        {
            clauses.Add($"r.lifecycle_stage = {Parameter(stage.ToString().ToLowerInvariant())}");
        }

        if (query.Filter is { } filter)
        {
            clauses.Add(Expression(filter));
        }

        return string.Join(" AND ", clauses);
    }

    public string OrderBy(IReadOnlyList<(RunKey Key, bool Descending)> keys)
    {
        var parts = new List<string>();
        foreach (var (key, descending) in keys)
        {
            var value = Value(key);
            parts.Add($"{value} IS NULL");
            parts.Add($"{value} {(descending ? "DESC" : "ASC")}");
        }

        parts.Add("r.started_at DESC");
        parts.Add("r.id");
        return string.Join(", ", parts);
    }

    private string Expression(RunFilter filter) => filter switch
    {
        RunFilter.And and => $"({Expression(and.Left)} AND {Expression(and.Right)})",
        RunFilter.Or or => $"({Expression(or.Left)} OR {Expression(or.Right)})",
        RunFilter.Comparison comparison => Comparison(comparison),
        _ => throw new InvalidOperationException($"Unknown filter node {filter.GetType().Name}."),
    };

    private string Comparison(RunFilter.Comparison c)
    {
        if (c.Operator is "IS NULL" or "IS NOT NULL")
        {
            // A metric stored as NaN is NULL in SQLite; "has no such metric" must not match it.
            return c.Key.Field == RunField.Metric
                ? $"{(c.Operator == "IS NULL" ? "NOT " : "")}EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key = {Parameter(c.Key.Name)})"
                : $"{Value(c.Key)} {c.Operator}";
        }

        var value = Value(c.Key);
        return c.Operator switch
        {
            "IN" or "NOT IN" => $"{value} {c.Operator} ({string.Join(", ", c.Values.Select(Parameter))})",
            // SQLite's LIKE ignores ASCII case, as ILIKE should; a case-sensitive LIKE becomes the equivalent GLOB.
            "LIKE" => $"{value} GLOB {Parameter(Glob((string)c.Values[0]))}",
            "ILIKE" => $"{value} LIKE {Parameter(c.Values[0])} ESCAPE '\\'",
            _ => $"{value} {c.Operator} {Parameter(c.Values[0])}",
        };
    }

    private string Value(RunKey key) => key.Field switch
    {
        RunField.Metric => $"(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = {Parameter(key.Name)})",
        RunField.Param => $"(SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = {Parameter(key.Name)})",
        RunField.Tag => $"(SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = {Parameter(key.Name)})",
        _ => key.Name switch
        {
            "run_id" => "r.id",
            "run_name" => "r.name",
            "status" => "r.status",
            "user_id" => "r.user_id",
            "start_time" => "r.started_at",
            "end_time" => "r.ended_at",
            _ => throw new InvalidOperationException($"Unknown attribute {key.Name}."),
        },
    };

    private string Parameter(object? value)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"$q{_parameters.Count}");
        _parameters.Add((name, value));
        return name;
    }

    // LIKE's % and _ become GLOB's * and ?; characters special to GLOB are matched literally through a one-character class.
    private static string Glob(string like)
    {
        var glob = new StringBuilder(like.Length);
        for (var i = 0; i < like.Length; i++)
        {
            var c = like[i];
            if (c == '\\' && i + 1 < like.Length)
            {
                glob.Append('[').Append(like[++i]).Append(']');
            }
            else
            {
                glob.Append(c switch
                {
                    '%' => "*",
                    '_' => "?",
                    '*' or '?' or '[' => $"[{c}]",
                    _ => c.ToString(),
                });
            }
        }

        return glob.ToString();
    }
}
