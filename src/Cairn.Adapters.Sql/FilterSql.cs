using System.Globalization;
using Cairn.Core.Runs;
using Cairn.Core.Search;

namespace Cairn.Adapters.Sql;

/// <summary>
/// Translates a parsed <see cref="Filter"/> and ordering into SQL for one kind of search. Every value from
/// the caller becomes a parameter; only fixed column names and operators are written into the text. A subclass
/// says which SQL expression each key reads.
/// </summary>
internal abstract class FilterSql(SqlDialect dialect)
{
    private readonly List<(string Name, object? Value)> _parameters = [];

    public IReadOnlyList<(string Name, object? Value)> Parameters => _parameters;

    /// <summary>The SQL condition for a filter.</summary>
    public string Expression(Filter filter) => filter switch
    {
        Filter.And or Filter.Or => $"({string.Join(filter is Filter.And ? " AND " : " OR ", Chain(filter).Select(Expression))})",
        Filter.Comparison comparison => Comparison(comparison),
        _ => throw new InvalidOperationException($"Unknown filter node {filter.GetType().Name}."),
    };

    // A chain such as a AND b AND c parses as a left-leaning tree; written flat, its SQL nests one level instead of
    // one per term, which keeps long filters inside the database parser's nesting limits.
    private static List<Filter> Chain(Filter filter)
    {
        var operands = new List<Filter>();
        var node = filter;
        while (node.GetType() == filter.GetType())
        {
            (var left, var right) = node switch
            {
                Filter.And and => (and.Left, and.Right),
                Filter.Or or => (or.Left, or.Right),
                _ => throw new InvalidOperationException($"Unknown filter node {node.GetType().Name}."),
            };
            operands.Add(right);
            node = left;
        }

        operands.Add(node);
        operands.Reverse();
        return operands;
    }

    /// <summary>The ORDER BY list: each key with missing values last, then the fixed tie-breakers that make pages stable.</summary>
    public string OrderBy(IReadOnlyList<(FilterKey Key, bool Descending)> keys, params string[] tieBreakers)
    {
        var parts = new List<string>();
        foreach (var (key, descending) in keys)
        {
            // NULLS LAST (SQLite and PostgreSQL both have it) reads the value once; "value IS NULL, value" read it twice.
            parts.Add($"{Value(key)} {(descending ? "DESC" : "ASC")} NULLS LAST");
        }

        parts.AddRange(tieBreakers);
        return string.Join(", ", parts);
    }

    /// <summary>The SQL expression that reads a key's value for the row being searched.</summary>
    protected abstract string Value(FilterKey key);

    /// <summary>The condition for <c>key IS [NOT] NULL</c>; by default a comparison of its value.</summary>
    protected virtual string IsNull(FilterKey key, bool isNull) => $"{Value(key)} {(isNull ? "IS NULL" : "IS NOT NULL")}";

    /// <summary>Adds a parameter and returns its name.</summary>
    protected string Parameter(object? value)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"@q{_parameters.Count}");
        _parameters.Add((name, value));
        return name;
    }

    private string Comparison(Filter.Comparison c)
    {
        if (c.Operator is "IS NULL" or "IS NOT NULL")
        {
            return IsNull(c.Key, c.Operator == "IS NULL");
        }

        // A key with its own table (a metric, param or tag) becomes a membership test on the rows of that table that
        // match, which an index on (key, value) answers without visiting every searched row.
        if (Matching(c.Key) is { } matching)
        {
            var keyed = matching.Value == "x.value" ? $"x.key = {Parameter(c.Key.Name)} AND " : "";
            return $"{matching.Id} IN (SELECT {matching.Owner} FROM {matching.Table} x WHERE {keyed}{Test(matching.Value, c)})";
        }

        return Test(Value(c.Key), c);
    }

    /// <summary>
    /// For a key kept in a table of its own (a key-value table, whose rows are matched on <c>x.key</c> too, or a run's
    /// dataset inputs): the searched row's id, the table, its owning column and the compared column; null otherwise.
    /// </summary>
    protected virtual (string Id, string Table, string Owner, string Value)? Matching(FilterKey key) => null;

    private string Test(string value, Filter.Comparison c) =>
        c.Operator switch
        {
            "IN" or "NOT IN" => $"{value} {c.Operator} ({string.Join(", ", c.Values.Select(Parameter))})",
            "LIKE" => dialect.Like(value, (string)c.Values[0], Parameter),
            "ILIKE" => dialect.ILike(value, (string)c.Values[0], Parameter),
            _ => $"{value} {c.Operator} {Parameter(c.Values[0])}",
        };
}

/// <summary>Run search over <c>runs r</c>.</summary>
internal sealed class RunQuerySql(SqlDialect dialect) : FilterSql(dialect)
{
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

    public string OrderBy(RunQuery query) => OrderBy(query.OrderBy, "r.started_at DESC", "r.id");

    protected override (string Id, string Table, string Owner, string Value)? Matching(FilterKey key) => key.Field switch
    {
        FilterField.Metric => ("r.id", "latest_metrics", "x.run_id", "x.value"),
        FilterField.Param => ("r.id", "run_params", "x.run_id", "x.value"),
        FilterField.Tag => ("r.id", "run_tags", "x.run_id", "x.value"),
        FilterField.Dataset => ("r.id", "run_dataset_inputs", "x.run_id", DatasetColumn(key)),
        _ => null,
    };

    // A metric stored as NaN is NULL in SQLite; "has no such metric" must not match it. A run without inputs has no dataset.
    protected override string IsNull(FilterKey key, bool isNull) => key.Field switch
    {
        FilterField.Metric => $"{(isNull ? "NOT " : "")}EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key = {Parameter(key.Name)})",
        FilterField.Dataset => $"{(isNull ? "NOT " : "")}EXISTS (SELECT 1 FROM run_dataset_inputs d WHERE d.run_id = r.id)",
        _ => base.IsNull(key, isNull),
    };

    // Fixed column names only: the parser accepts no other dataset key.
    private static string DatasetColumn(FilterKey key) => key.Name switch
    {
        "name" => "x.name",
        "digest" => "x.digest",
        "context" => "x.context",
        _ => throw new InvalidOperationException($"Unknown dataset key {key.Name}."),
    };

    protected override string Value(FilterKey key) => key.Field switch
    {
        FilterField.Metric => $"(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = {Parameter(key.Name)})",
        FilterField.Param => $"(SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = {Parameter(key.Name)})",
        FilterField.Tag => $"(SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = {Parameter(key.Name)})",
        // Sorting on a run's inputs: the first in order, as a run may have read several.
        FilterField.Dataset => $"(SELECT MIN({DatasetColumn(key)}) FROM run_dataset_inputs x WHERE x.run_id = r.id)",
        _ => key.Name switch
        {
            "run_id" => "r.id",
            "run_name" => "r.name",
            "status" => "r.status",
            "user_id" => "r.user_id",
            "parent_run_id" => "r.parent_run_id",
            "start_time" => "r.started_at",
            "end_time" => "r.ended_at",
            _ => throw new InvalidOperationException($"Unknown run attribute {key.Name}."),
        },
    };
}

/// <summary>Experiment search over <c>experiments e</c>.</summary>
internal sealed class ExperimentQuerySql(SqlDialect dialect) : FilterSql(dialect)
{
    public string Where(LifecycleStage? lifecycle, Filter? filter)
    {
        var clauses = new List<string> { "1 = 1" };
        if (lifecycle is { } stage)
        {
            clauses.Add($"e.lifecycle_stage = {Parameter(stage.ToString().ToLowerInvariant())}");
        }

        if (filter is not null)
        {
            clauses.Add(Expression(filter));
        }

        return string.Join(" AND ", clauses);
    }

    protected override string Value(FilterKey key) => key.Field switch
    {
        FilterField.Tag => $"(SELECT t.value FROM experiment_tags t WHERE t.experiment_id = e.id AND t.key = {Parameter(key.Name)})",
        _ => key.Name switch
        {
            "experiment_id" => "e.id",
            "name" => "e.name",
            "creation_time" => "e.created_at",
            "last_update_time" => "e.updated_at",
            _ => throw new InvalidOperationException($"Unknown experiment attribute {key.Name}."),
        },
    };
}

/// <summary>Registered-model search over <c>models m</c>.</summary>
internal sealed class ModelQuerySql(SqlDialect dialect) : FilterSql(dialect)
{
    protected override string Value(FilterKey key) => key.Field switch
    {
        FilterField.Tag => $"(SELECT t.value FROM model_tags t WHERE t.model = m.name AND t.key = {Parameter(key.Name)})",
        _ => key.Name switch
        {
            "name" => "m.name",
            "description" => "m.description",
            "user_id" => "m.user_id",
            "creation_timestamp" => "m.created_at",
            "last_updated_timestamp" => "m.updated_at",
            _ => throw new InvalidOperationException($"Unknown registered model attribute {key.Name}."),
        },
    };
}

/// <summary>Model-version search over <c>model_versions v</c>.</summary>
internal sealed class ModelVersionQuerySql(SqlDialect dialect) : FilterSql(dialect)
{
    protected override string Value(FilterKey key) => key.Field switch
    {
        FilterField.Tag => $"(SELECT t.value FROM model_version_tags t WHERE t.model = v.model AND t.version = v.version AND t.key = {Parameter(key.Name)})",
        _ => key.Name switch
        {
            "name" => "v.model",
            "version_number" => "v.version",
            "run_id" => "v.run_id",
            "source_path" => "v.source",
            "status" => "v.status",
            "current_stage" => "v.stage",
            "user_id" => "v.user_id",
            "creation_timestamp" => "v.created_at",
            "last_updated_timestamp" => "v.updated_at",
            _ => throw new InvalidOperationException($"Unknown model version attribute {key.Name}."),
        },
    };
}
