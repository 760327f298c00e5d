using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Training;

namespace Cairn.Core.Ports;

/// <summary>What a trainer is asked to do: a validated plan and the rows to learn from and evaluate on.</summary>
public sealed record TrainingRequest(TrainingSpec Spec, TrainingPlan Plan, Table Train, Table Test);

/// <summary>
/// A trained model: its artifacts in both formats, its signature, and the trainer's own predictions for the test rows
/// (the reference the exported ONNX graph is checked against).
/// </summary>
public sealed record TrainedModel(byte[] MlNetModel, byte[] OnnxModel, ModelSignature Signature, IReadOnlyList<OutputTensor> TestPredictions);

/// <summary>Fits a model and predicts the held-out rows.</summary>
public interface IModelTrainer
{
    /// <summary>Trains, predicts the test rows and exports; CPU-bound, so it runs on the caller's thread.</summary>
    TrainedModel Train(TrainingRequest request, CancellationToken cancellationToken);
}
