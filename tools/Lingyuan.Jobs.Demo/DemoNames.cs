namespace Lingyuan.Jobs.Demo;

/// <summary>Word lists of the synthetic registers: Lingyuan's streets and towns, plausible names, employers, banks.</summary>
internal static class DemoNames
{
    public const string Region = "211382"; // 凌源市
    public const string MailDomain = "lingyuan-demo.test";

    /// <summary>Sub-districts (urban hukou) first, then towns and townships of Lingyuan.</summary>
    public static readonly string[] UrbanStreets = ["城关街道", "北街街道", "南街街道", "红山街道", "东城街道", "热水汤街道", "凌北街道"];

    public static readonly string[] Towns =
        ["宋杖子镇", "三十家子镇", "万元店镇", "四官营子镇", "刀尔登镇", "沟门子镇", "小城子镇", "四合当镇", "乌兰白镇", "松岭子镇",
         "杨杖子镇", "刘杖子镇", "大河北镇", "北炉乡", "佛爷洞乡", "大王杖子乡", "河坎子乡", "牛营子乡", "三家子蒙古族乡", "瓦房店满族乡"];

    public static readonly string[] UrbanCommunities =
        ["和平社区", "建设社区", "光明社区", "胜利社区", "新华社区", "文化社区", "站前社区", "兴凌社区", "园林社区", "铁路社区"];

    public static readonly string[] Villages =
        ["东村", "西村", "南沟村", "北沟村", "前进村", "红旗村", "太平村", "新丰村", "东山村", "西营子村", "王杖子村", "李家店村"];

    public static readonly string[] Surnames =
        ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗",
         "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "程", "曹", "袁", "邓", "许", "沈", "曾", "彭", "吕", "苏", "卢",
         "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "闫", "潘", "杜", "田", "任", "姜", "范", "方", "石", "姚", "谭", "邹", "金",
         "郝", "孔", "白", "崔", "康", "毛", "秦", "史", "侯", "邵", "孟", "常", "武", "乔", "贺", "尹", "关", "佟", "那", "包"];

    public static readonly string[] MaleGiven =
        ["伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩",
         "凯", "健", "俊", "帆", "建国", "建军", "志强", "海涛", "国庆", "立新", "振华", "文博", "子轩", "浩然", "宏伟", "永生"];

    public static readonly string[] FemaleGiven =
        ["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "桂英", "秀兰", "丽华", "淑珍", "玉梅", "凤霞", "雪", "婷",
         "欣怡", "梓涵", "诗雨", "雨桐", "佳怡", "晓燕", "春梅", "海燕", "红梅", "秀英", "淑华", "美玲"];

    public static readonly string[] TradeNames =
        ["宏达", "鑫源", "凌峰", "华泰", "兴隆", "利民", "富民", "恒信", "安泰", "金鼎", "瑞丰", "长城", "青松", "大凌河", "红山",
         "天成", "顺通", "德胜", "永兴", "广源", "聚丰", "嘉禾", "万通", "鸿运", "盛达", "新村", "塞北", "燕山", "辽西", "锦程"];

    public static readonly (string Industry, string Suffix, int MaxWorkers)[] Industries =
    [
        ("建筑业", "建筑工程有限公司", 300), ("制造业", "机械制造有限公司", 200), ("批发和零售业", "商贸有限公司", 30),
        ("住宿和餐饮业", "餐饮有限公司", 40), ("交通运输业", "运输有限公司", 60), ("采矿业", "矿业有限公司", 150),
        ("农副食品加工业", "食品有限公司", 120), ("居民服务业", "家政服务有限公司", 25), ("农业", "农业专业合作社", 50),
        ("信息技术服务业", "信息技术有限公司", 20),
    ];

    /// <summary>Issuer of the card's financial account and a BIN of theirs.</summary>
    public static readonly (string Code, string Bin)[] Banks =
        [("CCB", "621700"), ("ABC", "622848"), ("ICBC", "621226"), ("BOC", "621661"), ("PSBC", "621799"), ("LNRCU", "621449")];

    public static readonly string[] ConflictReasons = ["近亲属在该单位任职", "曾在该单位工作未满三年", "与法定代表人有利害关系", "本人或配偶持有该单位股份"];
}
