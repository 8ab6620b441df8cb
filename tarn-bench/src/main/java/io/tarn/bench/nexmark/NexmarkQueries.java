package io.tarn.bench.nexmark;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Nexmark queries q0–q22 in Flink SQL, written from the benchmark's query descriptions, each with the blackhole (or,
 * for q10, file system) sink it writes to. q6 is left out: its OVER aggregation over an updating stream is not
 * something Flink SQL can run (the Flink edition of Nexmark leaves it out too).
 */
public final class NexmarkQueries {
    private NexmarkQueries() {}

    /** The generated table of {@code events} events and the person, auction and bid views every query reads. */
    public static String setup(long events) {
        return """
                CREATE TEMPORARY TABLE nexmark (
                  event_type INT,
                  person ROW<id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING, state STRING,
                    `dateTime` TIMESTAMP(3), extra STRING>,
                  auction ROW<id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT,
                    `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra STRING>,
                  bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, `dateTime` TIMESTAMP(3),
                    extra STRING>,
                  `dateTime` AS CASE WHEN event_type = 0 THEN person.`dateTime` WHEN event_type = 1 THEN auction.`dateTime`
                    ELSE bid.`dateTime` END,
                  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
                ) WITH ('connector' = 'nexmark', 'events' = '%d');
                CREATE TEMPORARY VIEW person AS SELECT person.id, person.name, person.emailAddress, person.creditCard,
                  person.city, person.state, `dateTime`, person.extra FROM nexmark WHERE event_type = 0;
                CREATE TEMPORARY VIEW auction AS SELECT auction.id, auction.itemName, auction.description,
                  auction.initialBid, auction.reserve, `dateTime`, auction.expires, auction.seller, auction.category,
                  auction.extra FROM nexmark WHERE event_type = 1;
                CREATE TEMPORARY VIEW bid AS SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url, `dateTime`,
                  bid.extra FROM nexmark WHERE event_type = 2;
                """
                .formatted(events);
    }

    /** The rows of q13's side input file, {@code key,value} lines for keys 0–9999. */
    public static String sideInput() {
        StringBuilder lines = new StringBuilder();
        for (int key = 0; key < 10_000; key++) {
            lines.append(key).append(",").append(key * 7919 % 10_007).append("\n");
        }
        return lines.toString();
    }

    /** Connectors the queries' tables use besides Tarn's own: the generator, q13's side input and q10's files. */
    public static final List<String> CONNECTORS = List.of("nexmark", "nexmark-side-input", "filesystem");

    /**
     * Query name → its sink DDL and INSERT.
     *
     * @param dir a directory for q10's output and q13's side input file (written from {@link #sideInput})
     */
    public static Map<String, String> queries(String dir) {
        Map<String, String> queries = new LinkedHashMap<>();
        String blackhole = " WITH ('connector' = 'blackhole');\n";
        queries.put(
                "q0",
                "CREATE TEMPORARY TABLE q0_sink (auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` TIMESTAMP(3),"
                        + " extra STRING)" + blackhole
                        + "INSERT INTO q0_sink SELECT auction, bidder, price, `dateTime`, extra FROM bid");
        queries.put(
                "q1",
                "CREATE TEMPORARY TABLE q1_sink (auction BIGINT, bidder BIGINT, price DECIMAL(23, 3),"
                        + " `dateTime` TIMESTAMP(3), extra STRING)" + blackhole
                        + "INSERT INTO q1_sink SELECT auction, bidder, 0.908 * price, `dateTime`, extra FROM bid");
        queries.put(
                "q2",
                "CREATE TEMPORARY TABLE q2_sink (auction BIGINT, price BIGINT)" + blackhole
                        + "INSERT INTO q2_sink SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0");
        queries.put(
                "q3",
                "CREATE TEMPORARY TABLE q3_sink (name STRING, city STRING, state STRING, id BIGINT)" + blackhole
                        + "INSERT INTO q3_sink SELECT P.name, P.city, P.state, A.id FROM auction AS A"
                        + " INNER JOIN person AS P ON A.seller = P.id"
                        + " WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')");
        queries.put(
                "q4",
                "CREATE TEMPORARY TABLE q4_sink (id BIGINT, final BIGINT)" + blackhole
                        + "INSERT INTO q4_sink SELECT Q.category, AVG(Q.final) FROM ("
                        + " SELECT MAX(B.price) AS final, A.category FROM auction A, bid B"
                        + " WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires"
                        + " GROUP BY A.id, A.category) Q GROUP BY Q.category");
        String hop = "FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))";
        queries.put(
                "q5",
                "CREATE TEMPORARY TABLE q5_sink (auction BIGINT, num BIGINT)" + blackhole
                        + "INSERT INTO q5_sink SELECT AuctionBids.auction, AuctionBids.num FROM ("
                        + " SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime " + hop
                        + " GROUP BY auction, window_start, window_end) AS AuctionBids JOIN ("
                        + " SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime FROM ("
                        + " SELECT count(*) AS num, window_start AS starttime, window_end AS endtime " + hop
                        + " GROUP BY auction, window_start, window_end) AS CountBids"
                        + " GROUP BY CountBids.starttime, CountBids.endtime) AS MaxBids"
                        + " ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime"
                        + " AND AuctionBids.num >= MaxBids.maxn");
        queries.put(
                "q7",
                "CREATE TEMPORARY TABLE q7_sink (auction BIGINT, price BIGINT, bidder BIGINT, `dateTime` TIMESTAMP(3),"
                        + " extra STRING)" + blackhole
                        + "INSERT INTO q7_sink SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra FROM bid B"
                        + " JOIN (SELECT MAX(price) AS maxprice, window_end AS `dateTime`"
                        + " FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))"
                        + " GROUP BY window_start, window_end) B1 ON B.price = B1.maxprice"
                        + " WHERE B.`dateTime` BETWEEN B1.`dateTime` - INTERVAL '10' SECOND AND B1.`dateTime`");
        queries.put(
                "q8",
                "CREATE TEMPORARY TABLE q8_sink (id BIGINT, name STRING, stime TIMESTAMP(3))" + blackhole
                        + "INSERT INTO q8_sink SELECT P.id, P.name, P.starttime FROM ("
                        + " SELECT id, name, window_start AS starttime, window_end AS endtime"
                        + " FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))"
                        + " GROUP BY id, name, window_start, window_end) P JOIN ("
                        + " SELECT seller, window_start AS starttime, window_end AS endtime"
                        + " FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))"
                        + " GROUP BY seller, window_start, window_end) A"
                        + " ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime");
        queries.put(
                "q9",
                "CREATE TEMPORARY TABLE q9_sink (id BIGINT, itemName STRING, description STRING, initialBid BIGINT,"
                        + " reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT,"
                        + " category BIGINT, extra STRING, auction BIGINT, bidder BIGINT, price BIGINT,"
                        + " bid_dateTime TIMESTAMP(3), bid_extra STRING)" + blackhole
                        + "INSERT INTO q9_sink SELECT id, itemName, description, initialBid, reserve, `dateTime`,"
                        + " expires, seller, category, extra, auction, bidder, price, bid_dateTime, bid_extra FROM ("
                        + " SELECT A.*, B.auction, B.bidder, B.price, B.`dateTime` AS bid_dateTime,"
                        + " B.extra AS bid_extra, ROW_NUMBER() OVER"
                        + " (PARTITION BY A.id ORDER BY B.price DESC, B.`dateTime` ASC) AS rownum"
                        + " FROM auction A, bid B"
                        + " WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires)"
                        + " WHERE rownum <= 1");
        queries.put(
                "q10",
                "CREATE TEMPORARY TABLE q10_sink (auction BIGINT, bidder BIGINT, price BIGINT,"
                        + " `dateTime` TIMESTAMP(3), extra STRING, dt STRING, hm STRING) PARTITIONED BY (dt, hm)"
                        + " WITH ('connector' = 'filesystem', 'path' = 'file://" + dir + "/q10', 'format' = 'json',"
                        + " 'sink.partition-commit.trigger' = 'partition-time',"
                        + " 'sink.partition-commit.delay' = '1 min',"
                        + " 'sink.partition-commit.policy.kind' = 'success-file',"
                        + " 'partition.time-extractor.timestamp-pattern' = '$dt $hm:00',"
                        + " 'sink.rolling-policy.rollover-interval' = '1min',"
                        + " 'sink.rolling-policy.check-interval' = '1min');\n"
                        + "INSERT INTO q10_sink SELECT auction, bidder, price, `dateTime`, extra,"
                        + " DATE_FORMAT(`dateTime`, 'yyyy-MM-dd'), DATE_FORMAT(`dateTime`, 'HH:mm') FROM bid");
        queries.put(
                "q11",
                "CREATE TEMPORARY TABLE q11_sink (bidder BIGINT, bid_count BIGINT, starttime TIMESTAMP(3),"
                        + " endtime TIMESTAMP(3))" + blackhole
                        + "INSERT INTO q11_sink SELECT bidder, count(*), window_start, window_end"
                        + " FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(`dateTime`),"
                        + " INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end");
        queries.put(
                "q12",
                "CREATE TEMPORARY TABLE q12_sink (bidder BIGINT, bid_count BIGINT, starttime TIMESTAMP(3),"
                        + " endtime TIMESTAMP(3))" + blackhole
                        + "CREATE TEMPORARY VIEW bid_processing_time AS SELECT bidder, PROCTIME() AS p_time FROM bid;\n"
                        + "INSERT INTO q12_sink SELECT bidder, count(*), window_start, window_end"
                        + " FROM TABLE(TUMBLE(TABLE bid_processing_time, DESCRIPTOR(p_time), INTERVAL '10' SECOND))"
                        + " GROUP BY bidder, window_start, window_end");
        queries.put(
                "q13",
                "CREATE TEMPORARY TABLE side_input (key BIGINT, `value` STRING) WITH ("
                        + "'connector' = 'nexmark-side-input', 'path' = '" + dir + "/side_input.csv');\n"
                        + "CREATE TEMPORARY TABLE q13_sink (auction BIGINT, bidder BIGINT, price BIGINT,"
                        + " `dateTime` TIMESTAMP(3), `value` STRING)" + blackhole
                        + "INSERT INTO q13_sink SELECT B.auction, B.bidder, B.price, B.`dateTime`, S.`value`"
                        + " FROM (SELECT *, PROCTIME() AS p_time FROM bid) B"
                        + " JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S ON MOD(B.auction, 10000) = S.key");
        queries.put(
                "q14",
                "CREATE TEMPORARY FUNCTION count_char AS '" + CountChar.class.getName() + "';\n"
                        + "CREATE TEMPORARY TABLE q14_sink (auction BIGINT, bidder BIGINT, price DECIMAL(23, 3),"
                        + " bidTimeType STRING, `dateTime` TIMESTAMP(3), extra STRING, c_counts BIGINT)" + blackhole
                        + "INSERT INTO q14_sink SELECT auction, bidder, 0.908 * price, CASE"
                        + " WHEN HOUR(`dateTime`) >= 8 AND HOUR(`dateTime`) <= 18 THEN 'dayTime'"
                        + " WHEN HOUR(`dateTime`) <= 6 OR HOUR(`dateTime`) >= 20 THEN 'nightTime'"
                        + " ELSE 'otherTime' END, `dateTime`, extra, count_char(extra, 'c') FROM bid"
                        + " WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000");
        String ranks = "count(*) FILTER (WHERE price < 10000), "
                + "count(*) FILTER (WHERE price >= 10000 AND price < 1000000), "
                + "count(*) FILTER (WHERE price >= 1000000)";
        String distinctRanks = "count(DISTINCT %1$s) FILTER (WHERE price < 10000), "
                + "count(DISTINCT %1$s) FILTER (WHERE price >= 10000 AND price < 1000000), "
                + "count(DISTINCT %1$s) FILTER (WHERE price >= 1000000)";
        String day = "DATE_FORMAT(`dateTime`, 'yyyy-MM-dd')";
        queries.put(
                "q15",
                "CREATE TEMPORARY TABLE q15_sink (`day` STRING, total_bids BIGINT, rank1_bids BIGINT,"
                        + " rank2_bids BIGINT, rank3_bids BIGINT, total_bidders BIGINT, rank1_bidders BIGINT,"
                        + " rank2_bidders BIGINT, rank3_bidders BIGINT, total_auctions BIGINT,"
                        + " rank1_auctions BIGINT, rank2_auctions BIGINT, rank3_auctions BIGINT)" + blackhole
                        + "INSERT INTO q15_sink SELECT " + day + ", count(*), " + ranks + ", count(DISTINCT bidder), "
                        + distinctRanks.formatted("bidder") + ", count(DISTINCT auction), "
                        + distinctRanks.formatted("auction") + " FROM bid GROUP BY " + day);
        queries.put(
                "q16",
                "CREATE TEMPORARY TABLE q16_sink (channel STRING, `day` STRING, `minute` STRING,"
                        + " total_bids BIGINT, rank1_bids BIGINT, rank2_bids BIGINT, rank3_bids BIGINT,"
                        + " total_bidders BIGINT, rank1_bidders BIGINT, rank2_bidders BIGINT, rank3_bidders BIGINT,"
                        + " total_auctions BIGINT, rank1_auctions BIGINT, rank2_auctions BIGINT,"
                        + " rank3_auctions BIGINT)" + blackhole
                        + "INSERT INTO q16_sink SELECT channel, " + day + ", max(DATE_FORMAT(`dateTime`, 'HH:mm')),"
                        + " count(*), " + ranks + ", count(DISTINCT bidder), " + distinctRanks.formatted("bidder")
                        + ", count(DISTINCT auction), " + distinctRanks.formatted("auction")
                        + " FROM bid GROUP BY channel, " + day);
        queries.put(
                "q17",
                "CREATE TEMPORARY TABLE q17_sink (auction BIGINT, `day` STRING, total_bids BIGINT,"
                        + " rank1_bids BIGINT, rank2_bids BIGINT, rank3_bids BIGINT, min_price BIGINT,"
                        + " max_price BIGINT, avg_price BIGINT, sum_price BIGINT)" + blackhole
                        + "INSERT INTO q17_sink SELECT auction, " + day + ", count(*), " + ranks
                        + ", min(price), max(price), avg(price), sum(price) FROM bid GROUP BY auction, " + day);
        queries.put(
                "q18",
                "CREATE TEMPORARY TABLE q18_sink (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,"
                        + " url STRING, `dateTime` TIMESTAMP(3), extra STRING)" + blackhole
                        + "INSERT INTO q18_sink SELECT auction, bidder, price, channel, url, `dateTime`, extra FROM ("
                        + " SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY `dateTime` DESC)"
                        + " AS rank_number FROM bid) WHERE rank_number <= 1");
        queries.put(
                "q19",
                "CREATE TEMPORARY TABLE q19_sink (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,"
                        + " url STRING, `dateTime` TIMESTAMP(3), extra STRING, rank_number BIGINT)" + blackhole
                        + "INSERT INTO q19_sink SELECT * FROM ("
                        + " SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number"
                        + " FROM bid) WHERE rank_number <= 10");
        queries.put(
                "q20",
                "CREATE TEMPORARY TABLE q20_sink (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,"
                        + " url STRING, bid_dateTime TIMESTAMP(3), bid_extra STRING, itemName STRING,"
                        + " description STRING, initialBid BIGINT, reserve BIGINT, auction_dateTime TIMESTAMP(3),"
                        + " expires TIMESTAMP(3), seller BIGINT, category BIGINT, auction_extra STRING)" + blackhole
                        + "INSERT INTO q20_sink SELECT auction, bidder, price, channel, url, B.`dateTime`, B.extra,"
                        + " itemName, description, initialBid, reserve, A.`dateTime`, expires, seller, category, A.extra"
                        + " FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id WHERE A.category = 10");
        String channelId = "REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)";
        queries.put(
                "q21",
                "CREATE TEMPORARY TABLE q21_sink (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,"
                        + " channel_id STRING)" + blackhole
                        + "INSERT INTO q21_sink SELECT auction, bidder, price, channel, CASE"
                        + " WHEN lower(channel) = 'apple' THEN '0' WHEN lower(channel) = 'google' THEN '1'"
                        + " WHEN lower(channel) = 'facebook' THEN '2' WHEN lower(channel) = 'baidu' THEN '3'"
                        + " ELSE " + channelId + " END FROM bid WHERE " + channelId + " IS NOT NULL"
                        + " OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')");
        queries.put(
                "q22",
                "CREATE TEMPORARY TABLE q22_sink (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING,"
                        + " dir1 STRING, dir2 STRING, dir3 STRING)" + blackhole
                        + "INSERT INTO q22_sink SELECT auction, bidder, price, channel, SPLIT_INDEX(url, '/', 3),"
                        + " SPLIT_INDEX(url, '/', 4), SPLIT_INDEX(url, '/', 5) FROM bid");
        return queries;
    }
}
