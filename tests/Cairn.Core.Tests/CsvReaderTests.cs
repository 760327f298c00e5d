using System.Text;
using Cairn.Core.Data;

namespace Cairn.Core.Tests;

public sealed class CsvReaderTests
{
    private static (IReadOnlyList<string> Header, List<string[]> Rows) Read(string text)
    {
        using var reader = CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        var rows = new List<string[]>();
        while (reader.TryRead(out var record))
        {
            rows.Add(record);
        }

        return (reader.Header, rows);
    }

    [Fact]
    public void Read_ARecordLongerThanTheLimit_IsRefused_BeforeItIsHeldWhole()
    {
        var longLine = "a,b\n1," + new string('x', 3 << 20) + "\n2,3\n";
        using var reader = CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(longLine)), maxRecordBytes: 2 << 20);

        var e = Assert.Throws<CairnException>(() => reader.TryRead());

        Assert.Contains("record starting at line 2 is longer than the limit of 2 MiB", e.Message);
    }

    [Fact]
    public void Read_AHeaderWithNoLineBreak_IsRefusedAtTheDefaultLimit()
    {
        var e = Assert.Throws<CairnException>(() => CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(new string('h', 5 << 20)))));

        Assert.Contains("longer than the limit of 4 MiB", e.Message);
    }

    [Fact]
    public void Read_ARecordJustUnderTheLimit_IsRead()
    {
        var text = "a,b\n1," + new string('x', (2 << 20) - 10) + "\n";
        using var reader = CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(text)), maxRecordBytes: 2 << 20);

        Assert.True(reader.TryRead(out var record));
        Assert.Equal((2 << 20) - 10, record[1].Length);
    }

    [Fact]
    public void Read_HandlesQuotedCommasLineBreaksAndDoubledQuotes()
    {
        var (header, rows) = Read("text,label\n\"Hello, world\",1\n\"She said \"\"hi\"\"\",0\n\"two\nlines\",1\n");

        Assert.Equal(["text", "label"], header);
        Assert.Equal(["Hello, world", "1"], rows[0]);
        Assert.Equal(["She said \"hi\"", "0"], rows[1]);
        Assert.Equal(["two\nlines", "1"], rows[2]);
    }

    [Fact]
    public void Read_AcceptsCrLfAndMissingFinalNewlineAndEmptyFields()
    {
        var (_, rows) = Read("a,b,c\r\n1,,3\r\n,,\r\n4,5,6");

        Assert.Equal(3, rows.Count);
        Assert.Equal(["1", "", "3"], rows[0]);
        Assert.Equal(["", "", ""], rows[1]);
        Assert.Equal(["4", "5", "6"], rows[2]);
    }

    [Fact]
    public void Read_SkipsBlankLinesAndAByteOrderMark()
    {
        var (header, rows) = Read("\uFEFFa,b\n1,2\n\n3,4\n\n\n");

        Assert.Equal("a", header[0]);
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public void Read_KeepsUtf8Text()
    {
        var (_, rows) = Read("text\nfiancé and clichés\n");

        Assert.Equal("fiancé and clichés", rows[0][0]);
    }

    [Fact]
    public void Read_RaggedRow_NamesTheRowLineAndCounts()
    {
        var e = Assert.Throws<CairnException>(() => Read("a,b,c\n1,2,3\n4,5\n"));

        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains("row 2 (line 3) has 2 fields, but the header has 3", e.Message);
    }

    [Fact]
    public void Read_UnclosedQuote_IsReported()
    {
        var e = Assert.Throws<CairnException>(() => Read("a,b\n\"open,1\n"));

        Assert.Contains("never closed", e.Message);
    }

    [Fact]
    public void Read_TextAfterClosingQuote_IsReported()
    {
        var e = Assert.Throws<CairnException>(() => Read("a,b\n\"x\"y,1\n"));

        Assert.Contains("after a closing quote", e.Message);
    }

    [Fact]
    public void Open_EmptyFile_SaysItHasNoHeader()
    {
        var e = Assert.Throws<CairnException>(() => Read(""));

        Assert.Contains("no header row", e.Message);
    }

    [Fact]
    public void Open_DuplicateAndEmptyColumnNames_AreAllReported()
    {
        var e = Assert.Throws<CairnException>(() => Read("a,,a\n1,2,3\n"));

        Assert.Contains("column 2 has an empty name", e.Message);
        Assert.Contains("'a' appears more than once", e.Message);
    }

    [Fact]
    public void Read_InvalidUtf8_IsReportedNotReplaced()
    {
        byte[] bytes = [.. "a\n"u8, 0xC3, 0x28, (byte)'\n'];

        var e = Assert.Throws<CairnException>(() =>
        {
            using var reader = CsvReader.Open(new MemoryStream(bytes));
            reader.TryRead(out _);
        });

        Assert.Contains("not valid UTF-8", e.Message);
    }

    [Fact]
    public void Read_LargeFieldsSpanningBuffers_AreIntact()
    {
        var big = new string('x', 200_000);
        var (_, rows) = Read($"a,b\n{big},\"{big}\"\n");

        Assert.Equal(big, rows[0][0]);
        Assert.Equal(big, rows[0][1]);
    }
}
