using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>
/// Loads a model version for serving: its ONNX graph on ONNX Runtime first, and — when that fails to load or to
/// score a probe row and the version kept its ML.NET model — ML.NET as the fallback. Either way the runtime has
/// scored one row before it is returned, so a version's first request pays for neither loading nor warming.
/// </summary>
public sealed class ModelLoader(ModelRegistry registry, IModelRuntimeFactory onnx, IMLNetRuntimeFactory? mlnet = null)
{
    /// <summary>A loaded, warmed runtime; <paramref name="Fallback"/> says why ONNX Runtime was passed over, when it was.</summary>
    public sealed record Loaded(IModelRuntime Runtime, string? Fallback);

    /// <summary>Loads <paramref name="version"/>.</summary>
    public async Task<Loaded> LoadAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var package = version.RequirePackage();
        try
        {
            return new Loaded(Warm(onnx.Load(await registry.ReadOnnxAsync(package, cancellationToken).ConfigureAwait(false), package.Signature), version), null);
        }
        catch (CairnException e) when (package.MlNetArtifact is { } artifact && mlnet is not null)
        {
            try
            {
                var model = await registry.ReadArtifactAsync(artifact, cancellationToken).ConfigureAwait(false);
                return new Loaded(Warm(mlnet.Load(model, package.Signature), version), e.Message);
            }
            catch (CairnException fallback)
            {
                throw new CairnException(fallback.Code, $"{e.Message} ML.NET could not serve it either: {fallback.Message}", fallback);
            }
        }
    }

    private static IModelRuntime Warm(IModelRuntime runtime, ModelVersion version)
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
            throw new CairnException(ErrorCode.Corrupt, $"{version.Model} version {version.Version} loaded on {runtime.Engine} but failed to score a probe row: {e.Message}", e);
        }
    }
}
