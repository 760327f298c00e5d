using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Training;

namespace Cairn.Core.Ports;

/// <summary>What a trainer is asked to do: a validated plan and the rows to learn from and evaluate on.</summary>
public sealed record TrainingRequest(TrainingSpec Spec, TrainingPlan Plan, Table Train, Table Test);

/// <summary>A trained model: its hold-out metrics, its artifacts in both formats and its signature.</summary>
public sealed record TrainedModel(IReadOnlyDictionary<string, double> Metrics, byte[] MlNetModel, byte[] OnnxModel, ModelSignature Signature);

/// <summary>Fits a model and evaluates it on held-out rows.</summary>
public interface IModelTrainer
{
    /// <summary>Trains, evaluates and exports; CPU-bound, so it runs on the caller's thread.</summary>
    TrainedModel Train(TrainingRequest request, CancellationToken cancellationToken);
}
