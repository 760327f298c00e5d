using Cairn.Core.Data;

namespace Cairn.Core.Models;

/// <summary>One input or output of an ONNX graph: its name, element type (float, double, int64, string, bool…) and shape (-1 for a free dimension).</summary>
public sealed record GraphTensor(string Name, string ElementType, IReadOnlyList<long> Shape)
{
    /// <summary>Whether this is a tensor at all (not a sequence or map, as scikit-learn's ZipMap output is).</summary>
    public bool IsTensor => Shape.Count > 0 || ElementType is "float" or "double" or "int64" or "int32" or "string" or "bool";

    /// <summary>The width of a [rows, width] tensor; 1 for [rows] or [rows, 1].</summary>
    public long Width => Shape.Count >= 2 ? Shape[^1] : 1;
}

/// <summary>What an ONNX graph declares: its inputs and outputs.</summary>
public sealed record GraphDescription(IReadOnlyList<GraphTensor> Inputs, IReadOnlyList<GraphTensor> Outputs);

/// <summary>What the importer cannot read from the graph and may be told.</summary>
/// <param name="Task">The task; by default classification when the graph outputs probabilities (binary for two), else regression.</param>
/// <param name="Label">The name of the label the model predicts (for evaluations and monitoring).</param>
/// <param name="Classes">The class names in output order; by default 0, 1, ….</param>
/// <param name="Features">Names for the columns of a single [rows, features] input; by default f0, f1, ….</param>
public sealed record ImportOptions(TaskKind? Task = null, string Label = "label", IReadOnlyList<string>? Classes = null, IReadOnlyList<string>? Features = null)
{
    /// <summary>Options as a command line or a query string gives them: the task by name, the lists comma-separated.</summary>
    public static ImportOptions Parse(string? task, string? label, string? classes, string? features)
    {
        static IReadOnlyList<string>? List(string? text) => text?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        TaskKind? kind = task is null ? null
            : Enum.TryParse<TaskKind>(task, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !task.All(char.IsDigit) ? parsed
            : throw CairnException.Invalid($"The task is '{task}'; use binary, multiclass or regression.");
        return new ImportOptions(kind, string.IsNullOrWhiteSpace(label) ? "label" : label, List(classes), List(features));
    }
}

/// <summary>Reads the signature of an ONNX model trained elsewhere (scikit-learn, PyTorch, …) from its graph.</summary>
public static class ModelImport
{
    /// <summary>
    /// The signature Cairn serves the graph with. A graph takes either one float tensor per feature column ([rows] or
    /// [rows, 1]; string tensors for categories) or one [rows, features] float matrix. Among the outputs, a float tensor is
    /// the score (probabilities when it is [rows, 2+]) and an int64 or string one the predicted label.
    /// </summary>
    public static ModelSignature Signature(GraphDescription graph, ImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var unsupported = graph.Outputs.Where(o => !o.IsTensor).ToList();
        var scores = graph.Outputs.Where(o => o.IsTensor && o.ElementType is "float" or "double").ToList();
        var labels = graph.Outputs.Where(o => o.IsTensor && o.ElementType is "int64" or "int32" or "string").ToList();
        if (scores.Count == 0)
        {
            problems.Add(unsupported.Count > 0
                ? $"output '{unsupported[0].Name}' is a {unsupported[0].ElementType}, not a tensor (from scikit-learn, convert with options {{'zipmap': False}})"
                : "the graph has no float output to read a score or probabilities from");
        }

        var score = scores.OrderByDescending(s => s.Width).FirstOrDefault();
        var width = (int)Math.Max(1, score?.Width ?? 1);
        var task = options.Task ?? (width >= 3 ? TaskKind.Multiclass : width == 2 || labels.Count > 0 ? TaskKind.Binary : TaskKind.Regression);
        var classCount = task switch { TaskKind.Binary => 2, TaskKind.Multiclass => width, _ => 0 };
        var classes = task == TaskKind.Regression ? null
            : options.Classes ?? [.. Enumerable.Range(0, classCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        if (classes is not null && classes.Count != classCount)
        {
            problems.Add($"{classes.Count} class name(s) given, but the {task.ToString().ToLowerInvariant()} model has {classCount} classes");
        }

        if (task == TaskKind.Multiclass && width < 3)
        {
            problems.Add($"the score output '{score?.Name}' has width {width}; a multiclass model needs one probability per class");
        }

        var inputs = Inputs(graph, options, problems, out var matrix);
        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"Cannot import the ONNX model:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
        }

        return new ModelSignature(task, options.Label, classes, inputs, ModelSignature.OutputsFor(task, classCount))
        {
            Graph = new GraphBinding(matrix, score!.Name, labels.FirstOrDefault()?.Name),
        };
    }

    private static List<SignatureInput> Inputs(GraphDescription graph, ImportOptions options, List<string> problems, out string? matrix)
    {
        matrix = null;
        if (graph.Inputs.Count == 1 && graph.Inputs[0].Shape.Count == 2 && graph.Inputs[0].Width > 1)
        {
            var input = graph.Inputs[0];
            matrix = input.Name;
            if (input.ElementType != "float")
            {
                problems.Add($"input '{input.Name}' is a {input.ElementType} matrix; Cairn feeds a [rows, features] input as float");
            }

            var width = (int)input.Width;
            if (width < 1)
            {
                problems.Add($"input '{input.Name}' does not declare how many features it takes; name them with --features");
                return [];
            }

            var names = options.Features ?? [.. Enumerable.Range(0, width).Select(i => $"f{i}")];
            if (names.Count != width)
            {
                problems.Add($"{names.Count} feature name(s) given, but input '{input.Name}' takes {width}");
            }

            return [.. names.Select(n => new SignatureInput(n, ColumnType.Numeric))];
        }

        if (options.Features is not null)
        {
            problems.Add("feature names are only for a graph with a single [rows, features] input; this one has an input per feature");
        }

        var result = new List<SignatureInput>();
        foreach (var input in graph.Inputs)
        {
            if (input.Width != 1)
            {
                problems.Add($"input '{input.Name}' has shape [{string.Join(", ", input.Shape)}]; Cairn feeds one column per input, [rows] or [rows, 1]");
            }
            else if (input.ElementType is "float")
            {
                result.Add(new SignatureInput(input.Name, ColumnType.Numeric));
            }
            else if (input.ElementType is "string")
            {
                result.Add(new SignatureInput(input.Name, ColumnType.Categorical));
            }
            else
            {
                problems.Add($"input '{input.Name}' is {input.ElementType}; Cairn feeds float and string inputs");
            }
        }

        return result;
    }
}
