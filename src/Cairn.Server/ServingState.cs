using Cairn.Core.Models;

namespace Cairn.Server;

/// <summary>What this server serves by default, and whether its models are loaded.</summary>
internal sealed class ServingState(string alias, string? deployment)
{
    private volatile bool _ready;

    /// <summary>The alias a bare model name in a URL resolves through.</summary>
    public string Alias { get; } = alias;

    /// <summary>The one deployment this server serves as a replica (<c>cairn serve --deployment</c>), or null for all.</summary>
    public string? Deployment { get; } = deployment;

    /// <summary>True once start-up loading has finished.</summary>
    public bool Ready => _ready;

    public void MarkReady() => _ready = true;

    /// <summary>The model a URL names: <c>name</c> goes through <see cref="Alias"/>; <c>name@alias</c> and <c>name@3</c> are taken as written; a version segment wins.</summary>
    public ModelRef Reference(string name, string? version)
    {
        if (version is not null)
        {
            return ModelRef.Parse($"{name}@{version}") is { Version: not null } pinned
                ? pinned
                : throw Core.CairnException.Invalid($"'{version}' is not a model version number.");
        }

        var reference = ModelRef.Parse(name);
        return reference.Alias is null && reference.Version is null && !name.EndsWith("@latest", StringComparison.Ordinal)
            ? reference with { Alias = Alias }
            : reference;
    }
}
