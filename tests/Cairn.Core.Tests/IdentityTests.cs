using Cairn.Core.Identity;

namespace Cairn.Core.Tests;

public sealed class IdentityTests
{
    private static readonly Account Alice = new(7, "alice", PrincipalKind.User, null, false, false, false, DateTimeOffset.UnixEpoch, "root");

    [Fact]
    public void Tokens_HaveAPrefixAndAChecksum_SoMistypedOnesAreRefusedWithoutALookup()
    {
        var secret = TokenSecret.Generate();

        Assert.StartsWith("cairn_", secret, StringComparison.Ordinal);
        Assert.Equal(TokenSecret.Length, secret.Length);
        Assert.True(TokenSecret.IsWellFormed(secret));
        var flipped = secret[..10] + (secret[10] == 'a' ? 'b' : 'a') + secret[11..];
        Assert.False(TokenSecret.IsWellFormed(flipped));
        Assert.False(TokenSecret.IsWellFormed(secret.AsSpan(0, secret.Length - 1)));
        Assert.False(TokenSecret.IsWellFormed("ghp_" + secret[6..]));
        Assert.NotEqual(TokenSecret.Generate(), secret);
        Assert.Equal(64, TokenSecret.Hash(secret).Length);
    }

    [Fact]
    public void ARole_IsTheHighestOfTheGlobalAndTheResourceGrant_WithinTheTokensCap()
    {
        var model = ResourceRef.Model("fraud");
        var principal = Principal.For(Alice, [3], [(ResourceRef.Global, Role.Viewer), (model, Role.Maintainer), (model, Role.Editor)], Role.Admin, null);

        Assert.Equal(Role.Maintainer, principal.RoleOn(model));
        Assert.Equal(Role.Viewer, principal.RoleOn(ResourceRef.Model("other")));
        Assert.Equal([7L, 3L], principal.PrincipalIds);
        Assert.False(principal.IsUnrestricted);

        var scoped = Principal.For(Alice, [], [(model, Role.Maintainer)], Role.Predict, "scorer");
        Assert.Equal(Role.Predict, scoped.RoleOn(model));
        Assert.Equal(Role.None, scoped.RoleOn(ResourceRef.Deployment("d")));
        Assert.Equal("alice/scorer", scoped.AuditName);

        var admin = Principal.For(Alice with { IsAdmin = true }, [], [], Role.Admin, null);
        Assert.True(admin.IsUnrestricted);
        Assert.Equal(Role.Viewer, Principal.For(Alice with { IsAdmin = true }, [], [], Role.Viewer, "ro").RoleOn(model));
        Assert.True(Principal.Local("root").IsUnrestricted);
    }

    [Theory]
    [InlineData("global", ResourceKind.Global, "*")]
    [InlineData("experiment:12", ResourceKind.Experiment, "12")]
    [InlineData("model:fraud-v2", ResourceKind.Model, "fraud-v2")]
    [InlineData("deployment:web", ResourceKind.Deployment, "web")]
    public void Resources_AreWrittenAsKindColonId(string text, ResourceKind kind, string id)
    {
        var parsed = ResourceRef.Parse(text);

        Assert.Equal((kind, id), (parsed.Kind, parsed.Id));
        Assert.Equal(text, parsed.ToString());
    }

    [Theory]
    [InlineData("experiment:abc")]
    [InlineData("model:")]
    [InlineData("bucket:x")]
    [InlineData("model:../etc")]
    public void MalformedResources_AreRefused_NamingTheForms(string text) =>
        Assert.Contains("experiment:ID", Assert.Throws<CairnException>(() => ResourceRef.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void RolesAndScopes_ParseByName_AndNameTheChoicesWhenWrong()
    {
        Assert.Equal(Role.Maintainer, Roles.Parse("Maintainer"));
        Assert.Contains("Did you mean 'editor'", Assert.Throws<CairnException>(() => Roles.Parse("editr")).Message, StringComparison.Ordinal);
        Assert.Equal(Role.Viewer, TokenScopes.Parse("read"));
        Assert.Equal(Role.Predict, TokenScopes.Parse("predict"));
        Assert.Equal("all", TokenScopes.Name(TokenScopes.Parse("all")));
        Assert.Throws<CairnException>(() => TokenScopes.Parse("none"));
    }
}
