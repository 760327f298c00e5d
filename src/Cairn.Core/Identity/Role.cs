namespace Cairn.Core.Identity;

/// <summary>
/// What a principal may do with a resource. Roles are ordered: each includes everything below it, so a check is one
/// comparison and an SQL filter is one <c>role &gt;= n</c>.
/// </summary>
public enum Role
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Score with a deployment or a model, and read the metadata a scoring client needs; nothing else.</summary>
    Predict = 1,

    /// <summary>Read everything about the resource (which includes scoring with it).</summary>
    Viewer = 2,

    /// <summary>Change it: log to runs, tag, register versions, add dataset versions, send feedback.</summary>
    Editor = 3,

    /// <summary>Delete and rename it, grant roles on it, move aliases, approve policy runs.</summary>
    Maintainer = 4,

    /// <summary>Everything, including users, groups and other people's tokens (held globally).</summary>
    Admin = 5,
}

/// <summary>The kinds of resource a role can be granted on.</summary>
public enum ResourceKind
{
    /// <summary>Every resource at once; a global grant.</summary>
    Global,

    /// <summary>An experiment and its runs (by experiment id).</summary>
    Experiment,

    /// <summary>A registered model and its versions (by name).</summary>
    Model,

    /// <summary>A dataset and its versions (by name).</summary>
    Dataset,

    /// <summary>A deployment with its monitor, feedback, alerts and policy (by name).</summary>
    Deployment,
}

/// <summary>One resource a role can be granted on.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Id">The experiment's id or the model's, dataset's or deployment's name; <c>*</c> for <see cref="ResourceKind.Global"/>.</param>
public sealed record ResourceRef(ResourceKind Kind, string Id)
{
    /// <summary>Every resource.</summary>
    public static ResourceRef Global { get; } = new(ResourceKind.Global, "*");

    /// <summary>An experiment by id.</summary>
    public static ResourceRef Experiment(string id) => new(ResourceKind.Experiment, id);

    /// <summary>A registered model by name.</summary>
    public static ResourceRef Model(string name) => new(ResourceKind.Model, name);

    /// <summary>A dataset by name.</summary>
    public static ResourceRef Dataset(string name) => new(ResourceKind.Dataset, name);

    /// <summary>A deployment by name.</summary>
    public static ResourceRef Deployment(string name) => new(ResourceKind.Deployment, name);

    /// <summary>Parses <c>global</c>, <c>experiment:ID</c>, <c>model:NAME</c>, <c>dataset:NAME</c> or <c>deployment:NAME</c>.</summary>
    public static ResourceRef Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text is "global" or "*")
        {
            return Global;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = colon > 0 ? text[..colon] : "";
        var id = colon > 0 ? text[(colon + 1)..] : "";
        return (kind, id) switch
        {
            ("experiment", var e) when e.Length > 0 && e.All(char.IsAsciiDigit) => Experiment(e),
            ("model", var m) when Names.IsValid(m) => Model(m),
            ("dataset", var d) when Names.IsValid(d) => Dataset(d),
            ("deployment", var d) when Names.IsValid(d) => Deployment(d),
            _ => throw CairnException.Invalid(
                $"'{text}' is not a resource: use global, experiment:ID, model:NAME, dataset:NAME or deployment:NAME."),
        };
    }

    /// <inheritdoc />
    public override string ToString() => Kind == ResourceKind.Global ? "global" : $"{Roles.Name(Kind)}:{Id}";
}

/// <summary>Names of roles and resource kinds as the CLI, the API and the database write them.</summary>
public static class Roles
{
    private static readonly string[] RoleNames = ["none", "predict", "viewer", "editor", "maintainer", "admin"];

    /// <summary>A role's lowercase name.</summary>
    public static string Name(Role role) => RoleNames[(int)role];

    /// <summary>A resource kind's lowercase name.</summary>
    public static string Name(ResourceKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Parses a role name, or returns false.</summary>
    public static bool TryParse(string? text, out Role role)
    {
        var index = Array.IndexOf(RoleNames, text?.Trim().ToLowerInvariant());
        role = index >= 0 ? (Role)index : Role.None;
        return index >= 0;
    }

    /// <summary>Parses a role name; an unknown one names the roles there are.</summary>
    public static Role Parse(string text)
    {
        var index = Array.IndexOf(RoleNames, text?.Trim().ToLowerInvariant());
        return index >= 0
            ? (Role)index
            : throw CairnException.Invalid($"'{text}' is not a role: use {string.Join(", ", RoleNames)}." +
                (Suggestions.Nearest(text ?? "", RoleNames) is { } near ? $" Did you mean '{near}'?" : ""));
    }

    /// <summary>Parses a resource kind's name.</summary>
    public static ResourceKind ParseKind(string text) =>
        Enum.TryParse<ResourceKind>(text, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw CairnException.Invalid($"'{text}' is not a resource kind: use global, experiment, model, dataset or deployment.");
}
