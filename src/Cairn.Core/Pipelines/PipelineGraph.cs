namespace Cairn.Core.Pipelines;

/// <summary>The order of a pipeline's steps, from what each reads and writes: a step runs after the writers of its inputs.</summary>
public static class PipelineGraph
{
    /// <summary>The steps each step waits for.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies(IReadOnlyList<PipelineStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var writer = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            foreach (var output in step.Outputs)
            {
                writer.TryAdd(output, step.Name);
            }
        }

        return steps.ToDictionary(s => s.Name, s => (IReadOnlyList<string>)[.. s.Inputs
            .Select(i => writer.GetValueOrDefault(i))
            .OfType<string>()
            .Where(w => w != s.Name)
            .Distinct()]);
    }

    /// <summary>A cycle of steps (the first step repeated at its end), or null when there is none.</summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyList<PipelineStep> steps)
    {
        var dependencies = Dependencies(steps);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        var path = new List<string>();

        IReadOnlyList<string>? Visit(string step)
        {
            state[step] = 1;
            path.Add(step);
            foreach (var next in dependencies[step])
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    // The path runs from a step to what it waits for; reversed, it reads in the order data flows.
                    return [.. path.Skip(path.IndexOf(next)).Append(next).Reverse()];
                }

                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[step] = 2;
            return null;
        }

        foreach (var step in steps)
        {
            if (state.GetValueOrDefault(step.Name) == 0 && Visit(step.Name) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }

    /// <summary>The steps in waves: every step of a wave depends only on steps of earlier waves, so a wave's steps may run in parallel.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Waves(IReadOnlyList<PipelineStep> steps)
    {
        var dependencies = Dependencies(steps);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var waves = new List<IReadOnlyList<string>>();
        while (done.Count < steps.Count)
        {
            List<string> wave = [.. steps.Where(s => !done.Contains(s.Name) && dependencies[s.Name].All(done.Contains)).Select(s => s.Name)];
            if (wave.Count == 0)
            {
                throw CairnException.Invalid("The steps depend on each other in a cycle.");
            }

            waves.Add(wave);
            done.UnionWith(wave);
        }

        return waves;
    }
}
