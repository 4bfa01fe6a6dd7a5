using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Tests.Dashboard;

public class HtmlFacts
{
    [Fact]
    public void Interpolated_values_are_encoded_and_Chinese_stays_readable()
    {
        var name = "<script>alert('凌源')</script>";
        Assert.Equal("<td>&lt;script&gt;alert(&#x27;凌源&#x27;)&lt;/script&gt;</td>", Html.Of($"<td>{name}</td>").Value);
    }

    [Fact]
    public void Html_pieces_in_lists_arrays_and_sequences_are_written_as_markup()
    {
        List<Html> list = [Html.Raw("<b>1</b>"), Html.Of($"<i>{"<2>"}</i>")];
        Html[] array = [Html.Raw("<br>")];
        IEnumerable<Html> sequence = list.Select(h => h);
        Assert.Equal("<b>1</b><i>&lt;2&gt;</i>|<br>|<b>1</b><i>&lt;2&gt;</i>", Html.Of($"{list}|{array}|{sequence}").Value);
    }
}
