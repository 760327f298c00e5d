using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application.Serving;

/// <summary>
/// Loads a model for scoring on the fastest engine that answers as ONNX Runtime does. The compiled engine comes
/// first when it can compile the graph and agrees with ONNX Runtime on the version's test rows and their edge cases
/// (every float within <see cref="EngineParity.Tolerance"/>, every label identical); otherwise ONNX Runtime answers,
/// and when that fails to load or to score a probe row and the version kept its ML.NET model, ML.NET does. Whichever
/// is returned has already scored, so a version's first request pays for neither loading nor warming.
/// </summary>
public sealed class ModelLoader(ModelRegistry registry, IModelRuntimeFactory onnx, IMLNetRuntimeFactory? mlnet = null, IModelCompiler? compiler = null)
{
    /// <summary>
    /// A loaded, warmed runtime. <paramref name="Fallback"/> says why ONNX Runtime was passed over for ML.NET, when it
    /// was; <paramref name="NotCompiled"/> why the compiled engine does not answer, when it does not.
    /// </summary>
    public sealed record Loaded(IModelRuntime Runtime, string? Fallback, string? NotCompiled = null);

    /// <summary>The version tag naming the engine that answers for a version, recorded when it is registered.</summary>
    public const string EngineTag = "cairn.engine";

    /// <summary>The version tag saying why the compiled engine does not answer for it, when it does not.</summary>
    public const string NotCompiledTag = "cairn.engine.not_compiled";

    /// <summary>
    /// Loads a newly registered version as serving will, and records on it which engine answers (<see cref="EngineTag"/>)
    /// and, when the compiled engine does not, why (<see cref="NotCompiledTag"/>): a difference from ONNX Runtime is
    /// then visible in the registry before anything serves the version. Returns the version with its tags.
    /// </summary>
    public async Task<ModelVersion> RecordEngineAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Package is null)
        {
            return version;
        }

        string engine;
        string? notCompiled;
        try
        {
            var loaded = await LoadAsync(version, cancellationToken).ConfigureAwait(false);
            (engine, notCompiled) = (loaded.Runtime.Engine, loaded.NotCompiled);
            loaded.Runtime.Dispose();
        }
        catch (CairnException e)
        {
            (engine, notCompiled) = ("none", e.Message);
        }

        await registry.SetTagAsync(version.Model, version.Version, EngineTag, engine, cancellationToken).ConfigureAwait(false);
        if (notCompiled is not null)
        {
            await registry.SetTagAsync(version.Model, version.Version, NotCompiledTag, notCompiled.Length > 1000 ? notCompiled[..1000] : notCompiled, cancellationToken)
                .ConfigureAwait(false);
        }

        return await registry.GetVersionAsync(version.Model, version.Version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads <paramref name="version"/>.</summary>
    public async Task<Loaded> LoadAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var package = version.RequirePackage();
        var described = $"{version.Model} version {version.Version}";
        try
        {
            return await LoadAsync(package, version.RunId, described, cancellationToken).ConfigureAwait(false);
        }
        catch (CairnException e) when (package.MlNetArtifact is { } artifact && mlnet is not null)
        {
            try
            {
                var model = await registry.ReadArtifactAsync(artifact, cancellationToken).ConfigureAwait(false);
                return new Loaded(Warm(mlnet.Load(model, package.Signature), described), e.Message);
            }
            catch (CairnException fallback)
            {
                throw new CairnException(fallback.Code, $"{e.Message} ML.NET could not serve it either: {fallback.Message}", fallback);
            }
        }
    }

    /// <summary>Loads a package on the compiled engine or ONNX Runtime (no ML.NET fallback), comparing them on the test rows of run <paramref name="runId"/>.</summary>
    public async Task<Loaded> LoadAsync(ModelPackage package, string? runId, string described, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(package);
        var bytes = await registry.ReadOnnxAsync(package, cancellationToken).ConfigureAwait(false);
        var reference = Warm(onnx.Load(bytes, package.Signature), described);
        if (compiler is null)
        {
            return new Loaded(reference, null, "the compiled engine is not configured");
        }

        var compiled = compiler.TryCompile(bytes, package.Signature, out var reason);
        if (compiled is null)
        {
            return new Loaded(reference, null, reason);
        }

        var rows = EngineParity.WithEdgeCases(await registry.ParityRowsAsync(runId, package.Signature, cancellationToken).ConfigureAwait(false), package.Signature);
        var difference = await Task.Run(() => Compare(reference, compiled, rows), cancellationToken).ConfigureAwait(false);
        if (difference is null)
        {
            reference.Dispose();
            return new Loaded(compiled, null);
        }

        compiled.Dispose();
        return new Loaded(reference, null, $"the compiled engine differs from ONNX Runtime on {described}'s test rows: {difference}");
    }

    // Null when the two agree on every row: the same values, or both refusing the same rows.
    private static string? Compare(IModelRuntime reference, IModelRuntime compiled, Table rows)
    {
        try
        {
            return EngineParity.Compare(reference.Predict(rows), compiled.Predict(rows));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A row ONNX Runtime refuses (a linear model's NaN score): compare row by row, refusals included.
            for (var row = 0; row < rows.RowCount; row++)
            {
                var one = rows.Take([row]);
                var expected = Try(reference, one);
                var actual = Try(compiled, one);
                if (expected is null != actual is null)
                {
                    return $"row {row}: one engine refuses it and the other scores it";
                }

                if (expected is not null && EngineParity.Compare(expected, actual!) is { } difference)
                {
                    return difference.Replace("row 0", $"row {row}", StringComparison.Ordinal);
                }
            }

            return null;
        }
    }

    private static IReadOnlyList<OutputTensor>? Try(IModelRuntime runtime, Table rows)
    {
        try
        {
            return runtime.Predict(rows);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;
        }
    }

    private static IModelRuntime Warm(IModelRuntime runtime, string described)
    {
        try
        {
            // A row of zeros and empty strings: every Cairn model and imported graph scores it.
            runtime.Predict(new Table(
                [.. runtime.Signature.Inputs.Select(i => i.TensorType == TensorType.Bytes ? (TableColumn)new StringColumn(i.Name, [""]) : new NumericColumn(i.Name, [0f]))], 1));
            return runtime;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            runtime.Dispose();
            throw new CairnException(ErrorCode.Corrupt, $"{described} loaded on {runtime.Engine} but failed to score a probe row: {e.Message}", e);
        }
    }
}
