using Cairn.Core.Data;
using Cairn.Core.Models;

namespace Cairn.Core.Tests;

public sealed class ReferenceTests
{
    [Theory]
    [InlineData("adult-income", null, null)]
    [InlineData("adult-income@champion", "champion", null)]
    [InlineData("adult-income@3", null, 3)]
    [InlineData("adult-income@v3", null, 3)]
    [InlineData("adult-income@latest", null, null)]
    public void ModelRef_Parse_ReadsEachForm(string text, string? alias, int? version)
    {
        var reference = ModelRef.Parse(text);

        Assert.Equal("adult-income", reference.Name);
        Assert.Equal(alias, reference.Alias);
        Assert.Equal(version, reference.Version);
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("v2")]
    [InlineData("12")]
    public void Aliases_Validate_RejectsReservedNames(string alias)
    {
        Assert.Contains("reserved", Assert.Throws<CairnException>(() => Aliases.Validate(alias)).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("has space")]
    [InlineData("-leading")]
    public void Names_Validate_RejectsUnsafeNames(string name)
    {
        Assert.Throws<CairnException>(() => Names.Validate(name, "dataset"));
    }

    [Fact]
    public void DatasetRef_Parse_ReadsNameAndVersion()
    {
        Assert.Equal(new DatasetRef("adult", 2), DatasetRef.Parse("adult@2"));
        Assert.Equal(new DatasetRef("adult", null), DatasetRef.Parse("adult"));
        Assert.Throws<CairnException>(() => DatasetRef.Parse("adult@zero"));
    }
}
