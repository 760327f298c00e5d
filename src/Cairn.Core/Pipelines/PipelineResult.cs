using Cairn.Core.Runs;

namespace Cairn.Core.Pipelines;

/// <summary>What happened to one step of a pipeline run.</summary>
/// <param name="Step">The step.</param>
/// <param name="RunId">The step's run (nested under the pipeline's).</param>
/// <param name="Status">FINISHED or FAILED.</param>
/// <param name="Cached">Whether the outputs came from an earlier run with the same cache key instead of running.</param>
/// <param name="CacheKey">The step's cache key.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Outputs">What it wrote: resource to value (a file's hash, a dataset version, a run id, a model version).</param>
public sealed record StepResult(string Step, string RunId, RunStatus Status, bool Cached, string CacheKey, string? Error, IReadOnlyDictionary<string, string> Outputs);

/// <summary>A finished pipeline run.</summary>
public sealed record PipelineResult(string Pipeline, string RunId, RunStatus Status, IReadOnlyList<StepResult> Steps);
