using Lingyuan.Jobs.WageArrears;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>A case record's notes are shown in the reader's words, never as stored codes (issue #18: "multi_worker" was shown).</summary>
public class ArrearsRecordTextFacts
{
    [Theory]
    [InlineData("multi_worker")]
    [InlineData("single_worker")]
    [InlineData("incident")]
    [InlineData("below_thresholds")]
    [InlineData("retested: multi_worker")]
    [InlineData("statement period ends 2026-02-27")]
    public void A_stored_rule_code_or_period_note_is_shown_in_Chinese(string stored)
    {
        var shown = ArrearsPages.DetailsZh(stored)!;
        Assert.DoesNotMatch("[a-z]{2,}", shown);
        Assert.Contains(shown, c => c is >= '\u4e00' and <= '\u9fff');
    }
}
