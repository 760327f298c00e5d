using Cairn.Adapters.CompiledEngine.Onnx;
using Cairn.Core.Models;

namespace Cairn.Adapters.CompiledEngine;

/// <summary>A graph turned into kernels over one row's value buffer, with where its inputs go and its outputs are read.</summary>
/// <param name="Width">How many floats a row's value buffer holds.</param>
/// <param name="NumericInputs">Each numeric signature input and the place in the buffer its value goes.</param>
/// <param name="TextInputs">Each text signature input, in the order kernels index them.</param>
/// <param name="Kernels">The steps, in graph order.</param>
/// <param name="Outputs">The slots the runtime reads, in the order <see cref="GraphCompiler"/> documents.</param>
/// <param name="Trees">The number of trees compiled, for the served metadata.</param>
internal sealed record CompiledGraph(int Width, IReadOnlyList<(string Column, int Offset)> NumericInputs, IReadOnlyList<string> TextInputs, Kernel[] Kernels, Slot[] Outputs, int Trees);

/// <summary>
/// Compiles an ONNX graph whose nodes are all ones the engine knows — ONNX-ML's tree ensembles, linear models and
/// featurizers (imputation, label and one-hot encoding, scaling, normalization, vectorizing) and the arithmetic,
/// casts and reshapes around them — into kernels. Anything else leaves the graph to ONNX Runtime, with the reason.
/// </summary>
/// <remarks>
/// The outputs, in order: for a graph Cairn exported, PredictedLabel, Probability and Score (binary) or Score
/// (otherwise); for an imported one, the binding's score output then its label output when it has one.
/// </remarks>
internal sealed class GraphCompiler
{
    // ONNX element types that are float values to the engine, and the integer ones a cast truncates to.
    private static readonly HashSet<long> FloatTypes = [OnnxNodes.Float, OnnxNodes.Double, 10, 16];
    private static readonly HashSet<long> IntegerTypes = [2, 3, 4, 5, OnnxNodes.Int32, OnnxNodes.Int64, 12, 13];

    private readonly ModelSignature _signature;
    private readonly Dictionary<string, float[]> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _constantShapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _texts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TokenSequence> _sequences = new(StringComparer.Ordinal);
    private readonly List<Kernel> _kernels = [];
    private readonly List<(string Column, int Offset)> _numericInputs = [];
    private readonly List<string> _textInputs = [];
    private int _width;
    private int _trees;

    private GraphCompiler(ModelSignature signature) => _signature = signature;

    /// <summary>Compiles <paramref name="model"/>, or says why it cannot.</summary>
    public static CompiledGraph? Compile(ModelProto model, ModelSignature signature, out string? reason)
    {
        var compiler = new GraphCompiler(signature);
        try
        {
            reason = compiler.Build(model.Graph);
            return reason is null
                ? new CompiledGraph(compiler._width, compiler._numericInputs, compiler._textInputs, [.. compiler._kernels], compiler.ReadOutputs(model.Graph), compiler._trees)
                : null;
        }
        catch (NotSupportedException e)
        {
            reason = e.Message;
            return null;
        }
    }

    private string? Build(GraphProto graph)
    {
        foreach (var constant in graph.Initializer)
        {
            if (OnnxNodes.Values(constant) is { } values)
            {
                _constants[constant.Name] = values;
                _constantShapes[constant.Name] = [.. constant.Dims];
            }
        }

        if (_signature.Graph?.MatrixInput is { } matrix)
        {
            var slot = Allocate(_signature.Inputs.Count);
            _slots[matrix] = slot;
            for (var i = 0; i < _signature.Inputs.Count; i++)
            {
                _numericInputs.Add((_signature.Inputs[i].Name, slot.Offset + i));
            }
        }
        else
        {
            foreach (var input in graph.Input.Where(i => !_constants.ContainsKey(i.Name)))
            {
                var declared = _signature.FindInput(input.Name);
                var type = input.Type?.TensorType?.ElemType ?? 0;
                if (declared is null)
                {
                    return $"graph input '{input.Name}' is not in the signature";
                }

                if (type == OnnxNodes.String)
                {
                    _texts[input.Name] = _textInputs.Count;
                    _textInputs.Add(input.Name);
                }
                else if (FloatTypes.Contains(type))
                {
                    var slot = Allocate(1);
                    _slots[input.Name] = slot;
                    _numericInputs.Add((input.Name, slot.Offset));
                }
                else
                {
                    return $"graph input '{input.Name}' has element type {type}";
                }
            }
        }

        foreach (var node in graph.Node)
        {
            if (node.Domain is not ("" or "ai.onnx" or "ai.onnx.ml") && (node.Domain, node.OpType) is not ("com.microsoft", "Tokenizer"))
            {
                return $"it has a {node.Domain}:{node.OpType} node";
            }

            if (Add(node) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private Slot Allocate(int width, bool integral = false, IReadOnlyList<string>? names = null)
    {
        var slot = new Slot(_width, width, integral, names);
        _width += width;
        return slot;
    }

    private Slot In(NodeProto node, int index = 0) =>
        index < node.Input.Count && _slots.TryGetValue(node.Input[index], out var slot)
            ? slot
            : throw new NotSupportedException($"{node.OpType} reads '{(index < node.Input.Count ? node.Input[index] : "?")}', which is not a numeric value the engine holds");

    private Slot Out(NodeProto node, int width, bool integral = false, IReadOnlyList<string>? names = null, int index = 0) =>
        _slots[node.Output[index]] = Allocate(width, integral, names);

    private bool IsText(NodeProto node) => node.Input.Count > 0 && _texts.ContainsKey(node.Input[0]);

    // One node; null when compiled, else why not.
    private string? Add(NodeProto node)
    {
        if (node.Input.Count > 0 && _sequences.TryGetValue(node.Input[0], out var tokens))
        {
            return AddOnTokens(node, tokens);
        }

        switch (node.OpType)
        {
            case "Identity" or "Flatten" or "Squeeze" or "Unsqueeze" or "Reshape":
                if (IsText(node))
                {
                    _texts[node.Output[0]] = _texts[node.Input[0]];
                    return null;
                }

                // Every value is one row's vector, so reshapes that keep a row's width change nothing.
                if (node.OpType == "Reshape" && _constantShapes.ContainsKey(node.Input[1]) && _constants[node.Input[1]] is var shape
                    && (shape.Length != 2 || shape[0] is not (-1 or 0) || (shape[1] != -1 && shape[1] != In(node).Width)))
                {
                    return $"it reshapes '{node.Input[0]}' across rows";
                }

                _slots[node.Output[0]] = In(node);
                return null;
            case "Cast":
            {
                var to = node.Int("to", 0);
                var source = In(node);
                if (FloatTypes.Contains(to) || (IntegerTypes.Contains(to) && source.Integral))
                {
                    _slots[node.Output[0]] = IntegerTypes.Contains(to) ? source with { Integral = true } : source;
                }
                else if (IntegerTypes.Contains(to) || to == OnnxNodes.Bool)
                {
                    _kernels.Add(new Map(to == OnnxNodes.Bool ? Function.NotZero : Function.Truncate, source, Out(node, source.Width, integral: true)));
                }
                else
                {
                    return $"it casts to element type {to}";
                }

                return null;
            }

            case "Imputer":
            {
                var source = In(node);
                var imputed = node.Floats("imputed_value_floats");
                if (imputed.Length != 1 && imputed.Length != source.Width)
                {
                    return "an Imputer has no float values to impute";
                }

                _kernels.Add(new Impute(source, Out(node, source.Width), imputed, node.Float32("replaced_value_float", 0f)));
                return null;
            }

            case "LabelEncoder":
                return LabelEncoder(node);
            case "OneHotEncoder":
                return OneHotEncoder(node);
            case "FeatureVectorizer" or "Concat":
            {
                if (node.OpType == "Concat" && node.Int("axis", 1) is not (1 or -1))
                {
                    return "a Concat joins along an axis other than the features";
                }

                var widths = node.OpType == "FeatureVectorizer" ? node.Ints("inputdimensions") : [.. node.Input.Select((_, i) => (long)In(node, i).Width)];
                if (widths.Length != node.Input.Count)
                {
                    return "a FeatureVectorizer's dimensions do not match its inputs";
                }

                if (node.Input.Count == 1 && widths[0] == In(node).Width)
                {
                    _slots[node.Output[0]] = In(node);
                    return null;
                }

                var output = Out(node, (int)widths.Sum());
                var at = output.Offset;
                for (var i = 0; i < node.Input.Count; i++)
                {
                    _kernels.Add(new Copy(In(node, i), at, (int)widths[i]));
                    at += (int)widths[i];
                }

                return null;
            }

            case "Scaler":
            {
                var source = In(node);
                _kernels.Add(new Scale(source, Out(node, source.Width), node.Floats("offset") is { Length: > 0 } o ? o : [0f], node.Floats("scale") is { Length: > 0 } s ? s : [1f]));
                return null;
            }

            case "Normalizer":
            {
                var source = In(node);
                var norm = node.Text("norm", "MAX") switch { "L1" => Norm.L1, "L2" => Norm.L2, _ => Norm.Max };
                _kernels.Add(new Normalize(source, Out(node, source.Width), norm));
                return null;
            }

            case "Binarizer":
            {
                var source = In(node);
                _kernels.Add(new Binarize(source, Out(node, source.Width, integral: true), node.Float32("threshold", 0f)));
                return null;
            }

            case "Add" or "Sub" or "Mul" or "Div":
                return Arithmetic(node);
            case "Sigmoid" or "Abs" or "Exp" or "Not":
            {
                var source = In(node);
                var function = node.OpType switch { "Sigmoid" => Function.Sigmoid, "Abs" => Function.Abs, "Not" => Function.Not, _ => Function.Exp };
                _kernels.Add(new Map(function, source, Out(node, source.Width)));
                return null;
            }

            case "Clip":
            {
                var source = In(node);
                float Bound(int index, float fallback) =>
                    index < node.Input.Count && node.Input[index].Length > 0
                        ? _constants.TryGetValue(node.Input[index], out var bound) && bound.Length == 1 ? bound[0] : throw new NotSupportedException("a Clip's bounds are not constants")
                        : fallback;
                _kernels.Add(new Clamp(source, Out(node, source.Width), Bound(1, float.MinValue), Bound(2, float.MaxValue)));
                return null;
            }

            case "Sum" or "Max" or "Min":
            {
                var inputs = node.Input.Select((_, i) => In(node, i)).ToArray();
                var width = inputs.Max(i => i.Width);
                if (inputs.Any(i => i.Width != 1 && i.Width != width))
                {
                    return $"a {node.OpType} broadcasts in a way the engine does not";
                }

                var op = node.OpType switch { "Sum" => Operator.Add, "Max" => Operator.Max, _ => Operator.Min };
                _kernels.Add(new Combine(op, inputs, Out(node, width)));
                return null;
            }

            case "Softmax":
            {
                var source = In(node);
                if (node.Int("axis", -1) is not (1 or -1))
                {
                    return "a Softmax runs along an axis other than the features";
                }

                _kernels.Add(new SoftmaxKernel(source, Out(node, source.Width)));
                return null;
            }

            case "ArgMax":
            {
                if (node.Int("axis", 0) is not (1 or -1) || node.Int("select_last_index", 0) != 0)
                {
                    return "an ArgMax runs along an axis other than the features";
                }

                _kernels.Add(new ArgMaxKernel(In(node), Out(node, 1, integral: true)));
                return null;
            }

            case "MatMul":
            {
                var source = In(node);
                if (node.Input.Count != 2 || !_constants.TryGetValue(node.Input[1], out var matrix) || _constantShapes[node.Input[1]] is not [var rows, var columns] || rows != source.Width)
                {
                    return "a MatMul does not multiply a row by a constant matrix";
                }

                _kernels.Add(new MatrixProduct(source, Out(node, (int)columns), matrix, null, PostTransform.None));
                return null;
            }

            case "LinearRegressor":
            {
                var source = In(node);
                var targets = (int)node.Int("targets", 1);
                var coefficients = node.Floats("coefficients");
                if (coefficients.Length != targets * source.Width || node.Text("post_transform", "NONE") != "NONE")
                {
                    return "a LinearRegressor's coefficients do not match its input";
                }

                // [targets, width] row-major becomes [width, targets] for the row-times-matrix kernel.
                var matrix = new float[coefficients.Length];
                for (var t = 0; t < targets; t++)
                {
                    for (var i = 0; i < source.Width; i++)
                    {
                        matrix[(i * targets) + t] = coefficients[(t * source.Width) + i];
                    }
                }

                var intercepts = node.Floats("intercepts");
                _kernels.Add(new MatrixProduct(source, Out(node, targets), matrix, intercepts.Length > 0 ? intercepts : null, PostTransform.None));
                return null;
            }

            case "TreeEnsembleRegressor" or "TreeEnsembleClassifier":
                return TreeEnsembleNode(node);
            case "Tokenizer":
                return Tokenizer(node);
            default:
                return $"it has a {node.OpType} node";
        }
    }

    // A Tokenizer's output is a row's token list, not a fixed-width value: it is carried as a TokenSequence through the
    // reshapes, the LabelEncoder and the casts that follow it, and becomes a kernel only at the TfIdfVectorizer.
    private string? Tokenizer(NodeProto node)
    {
        if (!IsText(node))
        {
            return "a Tokenizer reads something other than a text input";
        }

        if (node.Find("tokenexp") is not null)
        {
            return "a Tokenizer splits on a regular expression";
        }

        var separators = node.Strings("separators");
        var characters = separators is [""];
        if (!characters && (separators.Length == 0 || separators.Any(s => s.Length != 1 || char.IsSurrogate(s[0]))))
        {
            return "a Tokenizer splits on separators longer than one character";
        }

        var splitter = new TextSplitter(characters, [.. separators.Where(s => s.Length == 1).Select(s => s[0])], node.Int("mark", 0) != 0, (int)node.Int("mincharnum", 1));
        _sequences[node.Output[0]] = new TokenSequence(_texts[node.Input[0]], splitter, null, 0);
        return null;
    }

    private string? AddOnTokens(NodeProto node, TokenSequence tokens)
    {
        switch (node.OpType)
        {
            case "Identity" or "Flatten" or "Squeeze" or "Unsqueeze" or "Reshape":
                _sequences[node.Output[0]] = tokens;
                return null;
            case "LabelEncoder" when tokens.Ids is null:
            {
                var keys = node.Strings("keys_strings");
                var values = node.Ints("values_int64s");
                if (keys.Length == 0 || keys.Length != values.Length)
                {
                    return "a LabelEncoder on tokens does not map strings to integers";
                }

                var ids = new Dictionary<string, long>(keys.Length, StringComparer.Ordinal);
                for (var i = 0; i < keys.Length; i++)
                {
                    ids.TryAdd(keys[i], values[i]);
                }

                _sequences[node.Output[0]] = tokens with { Ids = ids, Unknown = node.Int("default_int64", -1) };
                return null;
            }

            case "Cast" when tokens.Ids is not null && node.Int("to", 0) is var to && IntegerTypes.Contains(to):
                // Casting every id now is casting every token later.
                _sequences[node.Output[0]] = tokens with
                {
                    Ids = tokens.Ids.ToDictionary(p => p.Key, p => OnnxNodes.CastInteger(p.Value, to), StringComparer.Ordinal),
                    Unknown = OnnxNodes.CastInteger(tokens.Unknown, to),
                };
                return null;
            case "TfIdfVectorizer":
                return NgramCounter(node, tokens);
            default:
                return $"a {node.OpType} node reads a Tokenizer's tokens";
        }
    }

    private string? NgramCounter(NodeProto node, TokenSequence tokens)
    {
        var (min, max, skip) = ((int)node.Int("min_gram_length", 1), (int)node.Int("max_gram_length", 1), (int)node.Int("max_skip_count", 0));
        var starts = node.Ints("ngram_counts");
        var indexes = node.Ints("ngram_indexes");
        var weighting = node.Text("mode", "TF") switch
        {
            "TF" => CountNgrams.Weighting.Tf,
            "IDF" => CountNgrams.Weighting.Idf,
            "TFIDF" => CountNgrams.Weighting.TfIdf,
            _ => (CountNgrams.Weighting?)null,
        };
        if (weighting is null || min < 1 || max < min || max > Ngram.MaxLength || max > starts.Length || skip < 0 || indexes.Length == 0 || indexes.Any(i => i < 0))
        {
            return $"a TfIdfVectorizer counts n-grams the engine does not (mode {node.Text("mode", "?")}, lengths {min}-{max})";
        }

        // A pool of strings gets ids of its own; a pool of integers needs the tokens already mapped to integers.
        var words = node.Strings("pool_strings");
        long[] pool;
        if (words.Length > 0)
        {
            if (tokens.Ids is not null)
            {
                return "a TfIdfVectorizer looks up strings in tokens already mapped to numbers";
            }

            var ids = new Dictionary<string, long>(StringComparer.Ordinal);
            pool = [.. words.Select(w => ids.TryAdd(w, ids.Count) ? ids.Count - 1 : ids[w])];
            tokens = tokens with { Ids = ids, Unknown = -1 };
        }
        else if (tokens.Ids is null)
        {
            return "a TfIdfVectorizer looks up numbers in tokens that are strings";
        }
        else
        {
            pool = node.Ints("pool_int64s");
        }

        // The pool lists the 1-grams, then the 2-grams and so on, from the offsets in ngram_counts; an n-gram's place in
        // that order indexes ngram_indexes, which says where its count goes.
        var grams = new Dictionary<Ngram, int>();
        var id = 0;
        for (var size = 1; size <= starts.Length; size++)
        {
            var (from, to) = ((int)starts[size - 1], size < starts.Length ? (int)starts[size] : pool.Length);
            if (to < from || to > pool.Length || (to - from) % size != 0)
            {
                return $"a TfIdfVectorizer's pool does not hold whole {size}-grams";
            }

            for (var at = from; at < to; at += size, id++)
            {
                if (size >= min && size <= max && (id >= indexes.Length || !grams.TryAdd(Ngram.Of(pool.AsSpan(at, size)), (int)indexes[id])))
                {
                    return "a TfIdfVectorizer's pool repeats an n-gram or has more n-grams than indexes";
                }
            }
        }

        var weights = node.Floats("weights");
        var width = (int)indexes.Max() + 1;
        _kernels.Add(new CountNgrams(tokens, grams, min, max, skip, weighting.Value, weights.Length >= width ? weights : null, Out(node, width)));
        return null;
    }

    private string? LabelEncoder(NodeProto node)
    {
        var keysText = node.Strings("keys_strings");
        var values = node.Ints("values_int64s") is { Length: > 0 } ints ? [.. ints.Select(v => (float)v)] : node.Floats("values_floats");
        var integral = node.Find("values_int64s") is not null;
        var fallback = integral ? node.Int("default_int64", -1) : node.Float32("default_float", -0f);
        if (values.Any(v => integral && Math.Abs(v) > 1 << 24))
        {
            return "a LabelEncoder's codes are too large to hold exactly";
        }

        if (IsText(node))
        {
            if (keysText.Length != values.Length || values.Length == 0)
            {
                return "a LabelEncoder on text does not map strings to numbers";
            }

            var codes = new Dictionary<string, float>(StringComparer.Ordinal);
            for (var i = 0; i < keysText.Length; i++)
            {
                codes.TryAdd(keysText[i], values[i]);
            }

            _kernels.Add(new EncodeText(_texts[node.Input[0]], Out(node, 1, integral), codes, fallback));
            return null;
        }

        var keys = node.Ints("keys_int64s") is { Length: > 0 } k ? [.. k.Select(v => (float)v)] : node.Floats("keys_floats");
        if (keys.Length != values.Length || values.Length == 0)
        {
            return "a LabelEncoder does not map numbers to numbers";
        }

        var numeric = new Dictionary<float, float>();
        for (var i = 0; i < keys.Length; i++)
        {
            numeric.TryAdd(keys[i], values[i]);
        }

        var source = In(node);
        _kernels.Add(new EncodeNumber(source, Out(node, source.Width, integral), numeric, fallback));
        return null;
    }

    private string? OneHotEncoder(NodeProto node)
    {
        if (node.Int("zeros", 1) == 0)
        {
            // Without zeros an unknown category is an error in ONNX Runtime; leave that behaviour to it.
            return "a OneHotEncoder refuses unknown categories";
        }

        if (IsText(node))
        {
            var names = node.Strings("cats_strings");
            var categories = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var name in names)
            {
                categories.TryAdd(name, categories.Count);
            }

            _kernels.Add(new OneHotText(_texts[node.Input[0]], Out(node, names.Length), categories));
            return null;
        }

        var codes = node.Ints("cats_int64s");
        var source = In(node);
        var byCode = new Dictionary<float, int>();
        foreach (var code in codes)
        {
            byCode.TryAdd(code, byCode.Count);
        }

        if (codes.Length == 0 || byCode.Count != codes.Length)
        {
            return "a OneHotEncoder has no integer categories";
        }

        _kernels.Add(new OneHot(source, Out(node, source.Width * codes.Length), byCode));
        return null;
    }

    private string? Arithmetic(NodeProto node)
    {
        var op = node.OpType switch { "Add" => Operator.Add, "Sub" => Operator.Sub, "Mul" => Operator.Mul, _ => Operator.Div };
        var leftConstant = _constants.GetValueOrDefault(node.Input[0]);
        var rightConstant = _constants.GetValueOrDefault(node.Input[1]);
        if (leftConstant is not null && rightConstant is not null)
        {
            return $"an {node.OpType} of two constants";
        }

        var left = leftConstant is null ? In(node, 0) : In(node, 1);
        var right = leftConstant is null && rightConstant is null ? In(node, 1) : (Slot?)null;
        var constant = leftConstant ?? rightConstant;
        var width = Math.Max(left.Width, right?.Width ?? constant!.Length);
        if ((left.Width != 1 && left.Width != width) || (right is { } r && r.Width != 1 && r.Width != width) || (constant is not null && constant.Length != 1 && constant.Length != width))
        {
            return $"an {node.OpType} broadcasts in a way the engine does not";
        }

        _kernels.Add(new Arithmetic(op, left, right, constant, leftConstant is not null, Out(node, width)));
        return null;
    }

    private string? TreeEnsembleNode(NodeProto node)
    {
        var classifier = node.OpType == "TreeEnsembleClassifier";
        var labelNumbers = node.Ints("classlabels_int64s");
        var labelNames = node.Strings("classlabels_strings");
        var classes = labelNumbers.Length + labelNames.Length;
        var ensemble = TreeEnsemble.Read(node, classes, out var reason);
        if (ensemble is null)
        {
            return reason;
        }

        var source = In(node);
        if (ensemble.FeatureCount > source.Width)
        {
            return $"a tree reads feature {ensemble.FeatureCount - 1} of a {source.Width}-wide input";
        }

        _trees += ensemble.TreeCount;
        if (!classifier)
        {
            _kernels.Add(new Trees(ensemble, source, Out(node, ensemble.TargetCount), null));
            return null;
        }

        // The label output holds the index of the winning class; the names turn it into what the graph would say.
        IReadOnlyList<string> names = labelNames.Length > 0 ? labelNames : [.. labelNumbers.Select(n => ModelOutputs.ClassName(_signature, n))];
        var label = Out(node, 1, integral: true, names, index: 0);
        var scores = node.Output.Count > 1 ? Out(node, ensemble.TargetCount, index: 1) : Allocate(ensemble.TargetCount);
        _kernels.Add(new Trees(ensemble, source, scores, label));
        return null;
    }

    private Slot[] ReadOutputs(GraphProto graph)
    {
        string[] names;
        if (_signature.Graph is { } binding)
        {
            names = binding.LabelOutput is { } label ? [binding.ScoreOutput, label] : [binding.ScoreOutput];
        }
        else
        {
            string Output(string column) => graph.Output.Select(o => o.Name).FirstOrDefault(n => n == column + ".output" || n == column)
                ?? throw new NotSupportedException($"the graph has no '{column}' output");
            names = _signature.Task == TaskKind.Binary ? [Output("PredictedLabel"), Output("Probability"), Output("Score")] : [Output("Score")];
        }

        return [.. names.Select(n => _slots.TryGetValue(n, out var slot) ? slot : throw new NotSupportedException($"output '{n}' is not a numeric value"))];
    }
}
