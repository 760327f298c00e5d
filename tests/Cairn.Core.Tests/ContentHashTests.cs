using System.Text;

namespace Cairn.Core.Tests;

public sealed class ContentHashTests
{
    [Fact]
    public void Of_MatchesTheFipsTestVector()
    {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ContentHash.Of(Encoding.ASCII.GetBytes("abc")).Hex);
    }

    [Theory]
    [InlineData("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void Parse_AcceptsUpperCaseAndPrefix_AndNormalises(string text)
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ContentHash.Parse(text).Hex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../../etc/passwd")]
    [InlineData("ba7816bf")]
    [InlineData("za7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void Parse_RejectsAnythingButAHash(string text)
    {
        Assert.False(ContentHash.TryParse(text, out _));
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<CairnException>(() => ContentHash.Parse(text)).Code);
    }
}
