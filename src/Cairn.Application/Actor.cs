namespace Cairn.Application;

/// <summary>Who is making changes, as recorded in the audit log.</summary>
/// <param name="Name">A user name, or the host's name for its own actions.</param>
public sealed record Actor(string Name);
