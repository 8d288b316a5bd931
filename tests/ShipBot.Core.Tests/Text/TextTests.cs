using ShipBot.Core.Text;

namespace ShipBot.Core.Tests.Text;

public sealed class TextTests
{
    [Theory]
    [InlineData(0.2, "200 ms")]
    [InlineData(5, "5 s")]
    [InlineData(90, "90 s")]
    [InlineData(150, "2 min 30 s")]
    [InlineData(1800, "30 min")]
    [InlineData(4 * 3600, "4 h")]
    [InlineData(4 * 3600 + 600, "4 h 10 min")]
    [InlineData(86_400, "1 day")]
    [InlineData(7 * 86_400, "7 days")]
    [InlineData(30 * 86_400, "30 days")]
    public void Humanise_Durations_ReadAsPeopleWriteThem(double seconds, string expected)
    {
        Assert.Equal(expected, Durations.Humanise(TimeSpan.FromSeconds(seconds)));
    }

    [Theory]
    [InlineData("[x] already done", @"\[x\] already done")]
    [InlineData("- [ ] nested box", @"\- \[ \] nested box")]
    [InlineData("# heading", @"\# heading")]
    [InlineData("1. ordered", @"1\. ordered")]
    [InlineData("**bold** and `code` and <b>", @"\*\*bold\*\* and \`code\` and \<b\>")]
    [InlineData("a | b", @"a \| b")]
    [InlineData("line one\nline two", "line one line two")]
    [InlineData("faster checkout; v1.4.2", "faster checkout; v1.4.2")]
    public void Escape_UserText_RendersAsTextNotMarkdown(string text, string expected)
    {
        Assert.Equal(expected, MarkdownText.Escape(text));
    }
}
