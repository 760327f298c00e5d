namespace Cairn.Core.Identity;

/// <summary>
/// Which rows of a list or search a caller may see: those on which one of <paramref name="PrincipalIds"/> holds at
/// least <paramref name="Least"/>. Stores apply it inside the query, so a page of ten is ten visible rows.
/// </summary>
public sealed record Visibility(IReadOnlyList<long> PrincipalIds, Role Least = Role.Viewer);
