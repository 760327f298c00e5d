using System.Globalization;
using System.Text.RegularExpressions;

namespace Cairn.Core.Pipelines;

/// <summary>The types a pipeline parameter may have.</summary>
public enum ParameterType
{
    /// <summary>Any text.</summary>
    String,

    /// <summary>A finite number.</summary>
    Number,

    /// <summary>A whole number.</summary>
    Integer,

    /// <summary>true or false.</summary>
    Boolean,
}

/// <summary>A declared parameter: its type and default (null when a value must be given).</summary>
public sealed record PipelineParameter(string Name, ParameterType Type, string? Default);

/// <summary>
/// One step: a built-in kind configured by <see cref="With"/>, or a <c>command</c> that runs <see cref="Run"/>. Steps
/// name what they read (<see cref="Inputs"/>) and write (<see cref="Outputs"/>) as resources — <c>file:PATH</c>,
/// <c>dataset:NAME</c>, <c>model:NAME</c>, <c>run:STEP</c> — and the order follows from them.
/// </summary>
public sealed record PipelineStep(string Name, string Kind)
{
    /// <summary>The kind's settings; values may refer to <c>${params.NAME}</c>.</summary>
    public IReadOnlyDictionary<string, string> With { get; init; } = new Dictionary<string, string>();

    /// <summary>For a command step: the executable and its arguments.</summary>
    public IReadOnlyList<string> Run { get; init; } = [];

    /// <summary>Resources the step reads.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>Resources the step writes.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>How many times a failed attempt is retried (with backoff).</summary>
    public int Retries { get; init; }

    /// <summary>How long one attempt may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>
/// A declarative pipeline, parsed from YAML and checked as a whole before anything runs: unknown kinds, missing
/// settings, unknown parameters, resources written twice and cycles are all reported at once.
/// </summary>
public sealed partial record PipelineSpec(string Name, IReadOnlyList<PipelineParameter> Parameters, IReadOnlyList<PipelineStep> Steps)
{
    /// <summary>The built-in step kinds with the settings each requires and accepts.</summary>
    public static readonly IReadOnlyDictionary<string, (string[] Required, string[] Optional)> Kinds =
        new Dictionary<string, (string[] Required, string[] Optional)>(StringComparer.Ordinal)
        {
            ["ingest"] = (["path", "dataset"], ["message"]),
            ["validate"] = (["dataset", "contract"], []),
            ["split"] = (["dataset"], ["method", "column", "test_fraction", "validation_fraction", "seed", "output"]),
            ["train"] = (["config"], ["dataset", "trainer", "seed"]),
            ["sweep"] = (["config"], ["dataset", "trials", "metric"]),
            ["evaluate"] = (["model", "dataset"], ["slices"]),
            ["register"] = (["run", "model"], ["alias"]),
            ["batch-score"] = (["model", "dataset", "output"], []),
            ["command"] = ([], []),
        };

    private static readonly string[] ResourceKinds = ["file", "dataset", "model", "run"];

    /// <summary>Parses and checks a pipeline, reporting every problem at once.</summary>
    public static PipelineSpec Parse(string yaml, string? source = null) => SpecYaml.Read<Document>(yaml, "the pipeline", source).ToSpec();

    /// <summary>Every <c>${params.NAME}</c> a text refers to.</summary>
    public static IEnumerable<string> ParameterReferences(string text) =>
        ParameterReference().Matches(text ?? "").Select(m => m.Groups[1].Value);

    /// <summary>Replaces every <c>${params.NAME}</c> in <paramref name="text"/> with its value.</summary>
    public static string Substitute(string text, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return ParameterReference().Replace(text ?? "", m => values[m.Groups[1].Value]);
    }

    /// <summary>Whether <paramref name="value"/> is a valid value of <paramref name="type"/>.</summary>
    public static bool IsValid(ParameterType type, string value) => type switch
    {
        ParameterType.Number => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n),
        ParameterType.Integer => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        ParameterType.Boolean => value is "true" or "false",
        _ => true,
    };

    [GeneratedRegex(@"\$\{params\.([A-Za-z0-9_.-]+)\}")]
    private static partial Regex ParameterReference();

    private sealed class Document
    {
        public string? Name { get; set; }

        public Dictionary<string, ParameterDocument>? Params { get; set; }

        public List<StepDocument>? Steps { get; set; }

        public PipelineSpec ToSpec()
        {
            var problems = new List<string>();
            if (string.IsNullOrWhiteSpace(Name))
            {
                problems.Add("'name' is required");
            }
            else if (!Names.IsValid(Name))
            {
                problems.Add($"name '{Name}' may use letters, digits, '.', '_' and '-' only");
            }

            var parameters = new List<PipelineParameter>();
            foreach (var (name, p) in Params ?? [])
            {
                var typeName = p?.Type ?? "string";
                if (!Enum.TryParse<ParameterType>(typeName, ignoreCase: true, out var type) || typeName.All(char.IsDigit))
                {
                    problems.Add($"parameter '{name}': type '{typeName}' is not one of string, number, integer, boolean");
                    continue;
                }

                if (p?.Default is { } value && !IsValid(type, value))
                {
                    problems.Add($"parameter '{name}': default '{value}' is not a valid {type.ToString().ToLowerInvariant()}");
                }

                parameters.Add(new PipelineParameter(name, type, p?.Default));
            }

            if (Steps is null or { Count: 0 })
            {
                problems.Add("'steps' is required: a pipeline needs at least one step");
            }

            var steps = new List<PipelineStep>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (document, index) in (Steps ?? []).Select((s, i) => (s, i + 1)))
            {
                var where = document.Name is { Length: > 0 } n ? $"step '{n}'" : $"step {index}";
                if (document.Name is not { Length: > 0 } name)
                {
                    problems.Add($"{where}: 'name' is required");
                    continue;
                }

                if (!names.Add(name))
                {
                    problems.Add($"{where}: the name is used by another step");
                }

                var kind = document.Kind ?? (document.Run is { Count: > 0 } ? "command" : null);
                if (kind is null || !Kinds.TryGetValue(kind, out var settings))
                {
                    problems.Add($"{where}: kind '{kind}' is not one of {string.Join(", ", Kinds.Keys)}");
                    continue;
                }

                var with = document.With ?? [];
                problems.AddRange(settings.Required.Where(r => !with.ContainsKey(r)).Select(r => $"{where}: '{kind}' needs 'with.{r}'"));
                problems.AddRange(with.Keys.Where(k => !settings.Required.Contains(k) && !settings.Optional.Contains(k))
                    .Select(k => $"{where}: '{kind}' does not take 'with.{k}' (it takes {string.Join(", ", settings.Required.Concat(settings.Optional).DefaultIfEmpty("nothing"))})"));
                if (kind == "command" && document.Run is not { Count: > 0 })
                {
                    problems.Add($"{where}: a command step needs 'run': the executable and its arguments");
                }

                if (kind != "command" && document.Run is { Count: > 0 })
                {
                    problems.Add($"{where}: only command steps take 'run'");
                }

                foreach (var resource in (document.Inputs ?? []).Concat(document.Outputs ?? []))
                {
                    var colon = resource.IndexOf(':', StringComparison.Ordinal);
                    if (colon <= 0 || colon == resource.Length - 1 || !ResourceKinds.Contains(resource[..colon]))
                    {
                        problems.Add($"{where}: resource '{resource}' is not KIND:NAME with KIND one of {string.Join(", ", ResourceKinds)}");
                    }
                }

                if (document.Retries is < 0 or > 10)
                {
                    problems.Add($"{where}: retries {document.Retries} must be between 0 and 10");
                }

                var timeout = TimeSpan.FromHours(1);
                if (document.Timeout is { } text && !Durations.TryParse(text, out timeout))
                {
                    problems.Add($"{where}: timeout '{text}' is not a duration such as 90s, 10m or 2h");
                }

                var referenced = with.Values.Concat(document.Run ?? []).Concat(document.Inputs ?? []).Concat(document.Outputs ?? []).SelectMany(ParameterReferences);
                problems.AddRange(referenced.Where(r => parameters.All(p => p.Name != r)).Distinct().Select(r => $"{where}: '${{params.{r}}}' names no declared parameter"));
                steps.Add(new PipelineStep(name, kind)
                {
                    With = with,
                    Run = document.Run ?? [],
                    Inputs = document.Inputs ?? [],
                    Outputs = document.Outputs ?? [],
                    Retries = document.Retries ?? 0,
                    Timeout = timeout,
                });
            }

            problems.AddRange(GraphProblems(steps));
            return problems.Count > 0
                ? throw CairnException.Invalid($"The pipeline has {problems.Count} problem(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}")
                : new PipelineSpec(Name!, parameters, steps);
        }

        private static IEnumerable<string> GraphProblems(List<PipelineStep> steps)
        {
            var writers = steps.SelectMany(s => s.Outputs.Select(o => (Resource: o, Step: s.Name))).GroupBy(w => w.Resource, StringComparer.Ordinal);
            foreach (var group in writers.Where(g => g.Count() > 1))
            {
                yield return $"resource '{group.Key}' is written by more than one step: {string.Join(", ", group.Select(g => g.Step))}";
            }

            if (PipelineGraph.FindCycle(steps) is { } cycle)
            {
                yield return $"the steps depend on each other in a cycle: {string.Join(" → ", cycle)}";
            }
        }
    }

    private sealed class ParameterDocument
    {
        public string? Type { get; set; }

        public string? Default { get; set; }
    }

    private sealed class StepDocument
    {
        public string? Name { get; set; }

        public string? Kind { get; set; }

        public Dictionary<string, string>? With { get; set; }

        public List<string>? Run { get; set; }

        public List<string>? Inputs { get; set; }

        public List<string>? Outputs { get; set; }

        public int? Retries { get; set; }

        public string? Timeout { get; set; }
    }
}
