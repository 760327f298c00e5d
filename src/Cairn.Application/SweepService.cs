using System.Globalization;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Training;

namespace Cairn.Application;

/// <summary>One trial of a sweep: its run, settings, the score it was judged on, and the halving round it reached.</summary>
public sealed record SweepTrial(Run Run, IReadOnlyDictionary<string, double> Hyperparameters, double? Score, int Round);

/// <summary>A finished sweep: its parent run, every trial, and the winner.</summary>
public sealed record SweepOutcome(Run Sweep, IReadOnlyList<SweepTrial> Trials, SweepTrial Best, string SelectedOn);

/// <summary>
/// Runs a hyperparameter sweep as a parent run with one child training run per trial, several at once. With successive
/// halving, every trial first trains with a small budget (boosting rounds, trees or passes); only the best share goes on
/// to a budget that grows by the same factor each round. The winner is picked on the validation rows when the split has
/// them, so the test rows stay an unbiased estimate of the winner.
/// </summary>
public sealed class SweepService(RunService runs, ITrackingStore store, TrainingService training, DatasetService datasets, TimeProvider time, Actor actor)
{
    private const int DefaultBudget = 100;

    /// <summary>Runs the sweep; fails only when no trial finishes.</summary>
    public async Task<SweepOutcome> RunAsync(SweepSpec sweep, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        // Every trial reads the same version, even if a new one is added while the sweep runs.
        var dataset = await datasets.GetAsync(sweep.Base.Dataset, cancellationToken).ConfigureAwait(false);
        var pinned = sweep.Base with { Dataset = new DatasetRef(dataset.Name, dataset.Version) };
        var selectedOn = pinned.Split.ValidationFraction > 0 ? $"validation.{sweep.Metric}" : sweep.Metric;
        var parent = await runs.CreateAsync(null, pinned.RunName is { } name ? $"sweep-{name}" : $"sweep-{pinned.Trainer}-{dataset.Name}", null, null,
            [new("cairn.kind", "sweep"), new(LocalProcess.Tag, LocalProcess.Current)], null, cancellationToken).ConfigureAwait(false);
        try
        {
            var trials = await RunRoundsAsync(sweep, pinned, parent.Id, selectedOn, progress, cancellationToken).ConfigureAwait(false);
            var finished = trials.Where(t => t.Score is not null).ToList();
            if (finished.Count == 0)
            {
                throw CairnException.Invalid($"No trial of the sweep finished; the first failed with: {trials.FirstOrDefault()?.Run.Error ?? "no trials ran"}");
            }

            var lastRound = finished.Max(t => t.Round);
            var best = Rank(finished.Where(t => t.Round == lastRound), sweep.Maximize)[0];
            await FinishAsync(sweep, parent.Id, dataset, best, trials, selectedOn).ConfigureAwait(false);
            return new SweepOutcome(await runs.GetAsync(parent.Id, cancellationToken).ConfigureAwait(false), trials, best, selectedOn);
        }
        catch (Exception e)
        {
            await store.FailRunAsync(parent.Id, e.Message, time.GetUtcNow(), actor.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<List<SweepTrial>> RunRoundsAsync(SweepSpec sweep, TrainingSpec pinned, string parentId, string selectedOn, IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var candidates = sweep.Candidates().ToList();
        var all = new List<SweepTrial>();
        var resource = SweepSpec.Resource[pinned.Trainer];
        var budget = pinned.Hyperparameters.TryGetValue(resource, out var b) ? b : DefaultBudget;
        var eta = sweep.HalvingReduction;
        var rounds = sweep.Halving ? Math.Max(0, (int)Math.Floor(Math.Log(candidates.Count) / Math.Log(eta))) : 0;
        for (var round = 0; round <= rounds; round++)
        {
            // Each round multiplies the budget by eta; the last one trains with the full budget.
            var roundBudget = sweep.Halving ? Math.Max(1, Math.Round(budget / Math.Pow(eta, rounds - round))) : (double?)null;
            var settings = candidates.Select(c => roundBudget is { } r ? new Dictionary<string, double>(c) { [resource] = r } : c).ToList();
            progress?.Report(sweep.Halving
                ? $"Round {round + 1} of {rounds + 1}: {settings.Count} trial(s) with {resource} = {roundBudget}"
                : $"{settings.Count} trial(s), {sweep.Parallel} at a time");
            var results = await RunTrialsAsync(sweep, pinned, parentId, selectedOn, settings, round, progress, cancellationToken).ConfigureAwait(false);
            all.AddRange(results);
            var keep = (int)Math.Ceiling(results.Count / (double)eta);
            candidates = [.. Rank(results.Where(r => r.Score is not null), sweep.Maximize).Take(keep).Select(r => r.Hyperparameters)];
            if (candidates.Count == 0)
            {
                break;
            }
        }

        return all;
    }

    private async Task<List<SweepTrial>> RunTrialsAsync(SweepSpec sweep, TrainingSpec pinned, string parentId, string selectedOn,
        IReadOnlyList<IReadOnlyDictionary<string, double>> settings, int round, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(sweep.Parallel);
        var tasks = settings.Select(async (hyperparameters, index) =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Trials skip permutation importance: it costs a trial as much as its training and no one reads it for a loser.
                var spec = pinned with
                {
                    Hyperparameters = hyperparameters,
                    RunName = $"{pinned.RunName ?? pinned.Trainer}-trial-{round + 1}.{index + 1}",
                    Evaluation = pinned.Evaluation with { PermutationImportance = false },
                };
                var tags = new Dictionary<string, string> { ["cairn.sweep.round"] = (round + 1).ToString(CultureInfo.InvariantCulture) };
                try
                {
                    var outcome = await training.TrainAsync(spec, parentId, tags, null, cancellationToken).ConfigureAwait(false);
                    var score = outcome.Run.Metrics.FirstOrDefault(m => m.Key == selectedOn)?.Value;
                    progress?.Report($"trial {round + 1}.{index + 1}: {selectedOn} = {score?.ToString("0.####", CultureInfo.InvariantCulture) ?? "missing"} ({Describe(hyperparameters)})");
                    return new SweepTrial(outcome.Run, hyperparameters, score is { } s && double.IsFinite(s) ? s : null, round);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A failed trial is recorded as a failed child run and left out; the sweep goes on.
                    progress?.Report($"trial {round + 1}.{index + 1} failed: {e.Message}");
                    // The parent id is hex, so it is safe inside the filter's quotes; the name is matched here, not in the filter.
                    var children = (await runs.SearchAsync([Experiment.DefaultId], $"tags.`{Run.ParentRunTag}` = '{parentId}'",
                        LifecycleStage.Active, [], 1000, null, CancellationToken.None).ConfigureAwait(false)).Runs;
                    var failed = children.FirstOrDefault(r => r.Name == spec.RunName) ?? Run.Start("", spec.RunName!, time.GetUtcNow()) with { Error = e.Message };
                    return new SweepTrial(failed, hyperparameters, null, round);
                }
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        return [.. await Task.WhenAll(tasks).ConfigureAwait(false)];
    }

    private async Task FinishAsync(SweepSpec sweep, string parentId, DatasetVersion dataset, SweepTrial best, List<SweepTrial> trials, string selectedOn)
    {
        var endedAt = time.GetUtcNow();
        var parameters = new Dictionary<string, string>
        {
            ["dataset"] = dataset.Reference,
            ["trainer"] = sweep.Base.Trainer,
            ["sweep.method"] = sweep.Method.ToString().ToLowerInvariant(),
            ["sweep.trials"] = trials.Count(t => t.Round == 0).ToString(CultureInfo.InvariantCulture),
            ["sweep.runs"] = trials.Count.ToString(CultureInfo.InvariantCulture),
            ["sweep.metric"] = selectedOn,
            ["sweep.parallel"] = sweep.Parallel.ToString(CultureInfo.InvariantCulture),
            ["sweep.early_stopping"] = sweep.Halving ? $"successive_halving (keep 1 in {sweep.HalvingReduction})" : "none",
        };
        foreach (var (key, value) in best.Hyperparameters)
        {
            parameters[$"best.hp.{key}"] = value.ToString("R", CultureInfo.InvariantCulture);
        }

        // The winner's metrics, test ones included, so the sweep's run compares with any training run.
        var metrics = best.Run.Metrics.Select(m => new Metric(m.Key, m.Value, 0, endedAt)).ToList();
        await store.FinishRunAsync(parentId, new RunCompletion(parameters, metrics,
            new Dictionary<string, string> { ["cairn.sweep.best_run"] = best.Run.Id, ["cairn.user"] = actor.Name },
            [RunInput.OfDatasetVersion(dataset.Name, dataset.Version, "training")], []), endedAt, actor.Name, CancellationToken.None).ConfigureAwait(false);
    }

    private static List<SweepTrial> Rank(IEnumerable<SweepTrial> trials, bool maximize) =>
        maximize ? [.. trials.OrderByDescending(t => t.Score)] : [.. trials.OrderBy(t => t.Score)];

    private static string Describe(IReadOnlyDictionary<string, double> hyperparameters) =>
        string.Join(", ", hyperparameters.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
}
