package io.tarn.bench.nexmark;

import java.util.SplittableRandom;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;

/**
 * The Nexmark event stream (an online auction: people register, open auctions, bid), written from the benchmark's
 * specification: event {@code n} is always the same, so every run and every parallel reader sees one stream. Out of
 * every 50 events 1 is a new person, 3 are new auctions and 46 are bids. Sellers and bidders are recent people and bids
 * go to auctions still open, with a share of "hot" ones so that some keys are much busier than others; event time
 * advances by a fixed rate from a fixed start, so windows fire the same way in every run.
 *
 * <p>A row is {@code (event_type, person, auction, bid)} with {@code event_type} 0, 1 or 2 and only that event's
 * field set, the layout the Nexmark queries' views expect.
 */
public final class NexmarkGenerator implements GeneratorFunction<Long, RowData> {
    private static final long serialVersionUID = 1L;

    static final int PERSON_PROPORTION = 1;
    static final int AUCTION_PROPORTION = 3;
    static final int BID_PROPORTION = 46;
    static final int PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
    static final long FIRST_PERSON_ID = 1000;
    static final long FIRST_AUCTION_ID = 1000;
    static final long FIRST_CATEGORY_ID = 10;
    static final int NUM_CATEGORIES = 5;
    /** People a new auction or bid picks from (the most recent ones). */
    static final int ACTIVE_PEOPLE = 1000;
    /** Auctions a bid picks from (the most recent ones); about this many are open at any time. */
    static final int IN_FLIGHT_AUCTIONS = 100;
    /** One in this many auctions/bidders/sellers is picked from the few "hot" ones. */
    static final int HOT_AUCTION_RATIO = 2;

    static final int HOT_BIDDER_RATIO = 4;
    static final int HOT_SELLER_RATIO = 4;
    /** Event time of event 0: 2026-01-01T00:00:00Z. */
    static final long BASE_TIME_MILLIS = 1_767_225_600_000L;

    private static final String[] FIRST_NAMES = {
        "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"
    };
    private static final String[] LAST_NAMES = {
        "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"
    };
    private static final String[] US_STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
    private static final String[] US_CITIES = {
        "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"
    };
    private static final String[] CHANNELS = {"Google", "Facebook", "Baidu", "Apple"};

    private final long eventsPerSecond;

    /** @param eventsPerSecond how fast event time advances: this many events per second of event time */
    public NexmarkGenerator(long eventsPerSecond) {
        this.eventsPerSecond = eventsPerSecond;
    }

    @Override
    public RowData map(Long index) {
        long n = index;
        SplittableRandom random = new SplittableRandom(n * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        long epoch = n / PROPORTION_DENOMINATOR;
        long offset = n % PROPORTION_DENOMINATOR;
        TimestampData time = TimestampData.fromEpochMillis(timeMillis(n));
        GenericRowData row = new GenericRowData(4);
        if (offset < PERSON_PROPORTION) {
            row.setField(0, 0);
            row.setField(1, person(epoch * PERSON_PROPORTION + offset + FIRST_PERSON_ID, time, random));
        } else if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) {
            row.setField(0, 1);
            long id = epoch * AUCTION_PROPORTION + offset - PERSON_PROPORTION + FIRST_AUCTION_ID;
            row.setField(2, auction(id, lastPersonId(n), n, time, random));
        } else {
            row.setField(0, 2);
            row.setField(3, bid(lastAuctionId(n), lastPersonId(n), time, random));
        }
        return row;
    }

    long timeMillis(long n) {
        return BASE_TIME_MILLIS + n * 1000 / eventsPerSecond;
    }

    /** The newest person at event {@code n}. */
    static long lastPersonId(long n) {
        long epoch = n / PROPORTION_DENOMINATOR;
        long offset = Math.min(n % PROPORTION_DENOMINATOR, PERSON_PROPORTION - 1);
        return FIRST_PERSON_ID + epoch * PERSON_PROPORTION + offset;
    }

    /** The newest auction at event {@code n} (the first one before any exists). */
    static long lastAuctionId(long n) {
        long epoch = n / PROPORTION_DENOMINATOR;
        long offset = n % PROPORTION_DENOMINATOR;
        long inEpoch = offset < PERSON_PROPORTION ? -1 : Math.min(offset - PERSON_PROPORTION, AUCTION_PROPORTION - 1);
        return Math.max(FIRST_AUCTION_ID, FIRST_AUCTION_ID + epoch * AUCTION_PROPORTION + inEpoch);
    }

    private static GenericRowData person(long id, TimestampData time, SplittableRandom random) {
        String name = pick(FIRST_NAMES, random) + " " + pick(LAST_NAMES, random);
        String email = word(random, 7) + "@" + word(random, 5) + ".com";
        String card = "%04d %04d %04d %04d"
                .formatted(
                        random.nextInt(10_000), random.nextInt(10_000), random.nextInt(10_000), random.nextInt(10_000));
        return GenericRowData.of(
                id,
                StringData.fromString(name),
                StringData.fromString(email),
                StringData.fromString(card),
                StringData.fromString(pick(US_CITIES, random)),
                StringData.fromString(pick(US_STATES, random)),
                time,
                StringData.fromString(extra(random, 140 - name.length() - email.length() - card.length())));
    }

    private GenericRowData auction(long id, long lastPerson, long n, TimestampData time, SplittableRandom random) {
        long seller = random.nextInt(HOT_SELLER_RATIO) > 0
                ? (lastPerson / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
                : recent(lastPerson, FIRST_PERSON_ID, ACTIVE_PEOPLE, random);
        seller = Math.max(FIRST_PERSON_ID, seller);
        long initialBid = price(random);
        // open for about as long as IN_FLIGHT_AUCTIONS auctions take to be created, give or take half
        long lifetimeEvents = IN_FLIGHT_AUCTIONS * PROPORTION_DENOMINATOR / AUCTION_PROPORTION;
        long expiresAt = timeMillis(n + lifetimeEvents / 2 + random.nextLong(lifetimeEvents));
        String item = word(random, 20);
        String description = word(random, 100);
        return GenericRowData.of(
                id,
                StringData.fromString(item),
                StringData.fromString(description),
                initialBid,
                initialBid + price(random),
                time,
                TimestampData.fromEpochMillis(Math.max(expiresAt, time.getMillisecond() + 1)),
                seller,
                FIRST_CATEGORY_ID + random.nextInt(NUM_CATEGORIES),
                StringData.fromString(extra(random, 400 - item.length() - description.length())));
    }

    private static GenericRowData bid(long lastAuction, long lastPerson, TimestampData time, SplittableRandom random) {
        long auction = random.nextInt(HOT_AUCTION_RATIO) > 0
                ? (lastAuction / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
                : recent(lastAuction, FIRST_AUCTION_ID, IN_FLIGHT_AUCTIONS, random);
        auction = Math.max(FIRST_AUCTION_ID, auction);
        long bidder = random.nextInt(HOT_BIDDER_RATIO) > 0
                ? (lastPerson / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
                : recent(lastPerson, FIRST_PERSON_ID, ACTIVE_PEOPLE, random);
        String channel;
        String url = "https://www.nexmark.com/" + word(random, 5) + "/" + word(random, 5) + "/" + word(random, 5)
                + "/item.htm?query=1";
        if (random.nextInt(10) < 4) {
            channel = pick(CHANNELS, random);
        } else {
            int channelId = random.nextInt(10_000);
            channel = "channel-" + channelId;
            url += "&channel_id=" + channelId;
        }
        return GenericRowData.of(
                auction,
                bidder,
                price(random),
                StringData.fromString(channel),
                StringData.fromString(url),
                time,
                StringData.fromString(extra(random, 100 - url.length() / 4)));
    }

    /** One of the {@code window} newest ids up to {@code last}, never below {@code first}. */
    private static long recent(long last, long first, int window, SplittableRandom random) {
        return Math.max(first, last - random.nextInt(window));
    }

    /** A price in cents, log-uniform from 1 to 1,000,000 dollars. */
    private static long price(SplittableRandom random) {
        return Math.round(Math.pow(10.0, random.nextDouble() * 6.0) * 100.0);
    }

    private static String pick(String[] options, SplittableRandom random) {
        return options[random.nextInt(options.length)];
    }

    private static String word(SplittableRandom random, int maxLength) {
        int length = 3 + random.nextInt(Math.max(1, maxLength - 2));
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = (char) ('a' + random.nextInt(26));
        }
        return new String(chars);
    }

    /** Padding so that events have their specified average sizes. */
    private static String extra(SplittableRandom random, int length) {
        return length <= 0 ? "" : word(random, length);
    }
}
