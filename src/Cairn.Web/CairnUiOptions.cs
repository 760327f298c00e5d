namespace Cairn.Web;

/// <summary>What the UI needs to know about the server it runs in.</summary>
/// <param name="Authentication">Whether users sign in (the header shows who, and a sign-out).</param>
/// <param name="Oidc">Whether an OpenID Connect provider is offered on the sign-in page.</param>
public sealed record CairnUiOptions(bool Authentication, bool Oidc);
