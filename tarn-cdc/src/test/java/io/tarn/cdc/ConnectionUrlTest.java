package io.tarn.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConnectionUrlTest {
    @Test
    void acceptsHostPortDatabaseAndSafeParameters() {
        assertThat(ConnectionUrl.parse("jdbc:postgresql://db.internal:6543/shop?sslmode=require&connectTimeout=5"))
                .isEqualTo(new ConnectionUrl(
                        "postgresql",
                        "db.internal",
                        6543,
                        "shop",
                        Map.of("sslmode", "require", "connectTimeout", "5")));
        assertThat(ConnectionUrl.parse("postgresql://localhost/shop"))
                .isEqualTo(new ConnectionUrl("postgresql", "localhost", 5432, "shop", Map.of()));
    }

    @Test
    void mariadbUrlsHaveTheirOwnPortAndParameters() {
        assertThat(ConnectionUrl.parse("jdbc:mariadb://db/shop?sslMode=verify-full&connectTimeout=5"))
                .isEqualTo(new ConnectionUrl(
                        "mariadb", "db", 3306, "shop", Map.of("sslMode", "verify-full", "connectTimeout", "5")));
        assertThatThrownBy(() -> ConnectionUrl.parse("mariadb://db/shop?allowLocalInfile=true"))
                .hasMessage("connection parameter 'allowLocalInfile' is not allowed: it makes the database driver load"
                        + " a class or write a file");
        assertThatThrownBy(() -> ConnectionUrl.parse("mariadb://db/shop?ApplicationName=x"))
                .hasMessage(
                        "connection parameter 'ApplicationName' is not supported (allowed: connectTimeout, socketTimeout,"
                                + " sslMode, tcpKeepAlive)");
    }

    @Test
    void textIsNormalisedAndParsesBackToTheSameConnection() {
        ConnectionUrl url = ConnectionUrl.parse(
                "jdbc:postgresql://db.internal/shop?sslmode=require&ApplicationName=tarn%20cdc&connectTimeout=5");
        assertThat(url.text())
                .isEqualTo(
                        "postgresql://db.internal:5432/shop?ApplicationName=tarn+cdc&connectTimeout=5&sslmode=require");
        assertThat(ConnectionUrl.parse(url.text())).isEqualTo(url);
    }

    @Test
    void refusesParametersThatLoadCodeAndNamesThem() {
        for (String parameter : new String[] {
            "socketFactory=org.example.Evil",
            "sslfactory=org.example.Evil",
            "SSLFACTORY=x",
            "sslhostnameverifier=x",
            "sslpasswordcallback=x",
            "authenticationPluginClassName=x",
            "socketFactoryArg=http://evil/x.xml",
            "loggerFile=/etc/cron.d/x"
        }) {
            String name = parameter.substring(0, parameter.indexOf('='));
            assertThatThrownBy(() -> ConnectionUrl.parse("jdbc:postgresql://h:5432/db?sslmode=require&" + parameter))
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessage("connection parameter '%s' is not allowed: it makes the database driver load a class"
                                    .formatted(name)
                            + " or write a file");
        }
    }

    @Test
    void databaseNamesAreIdentifiersSoNoParameterHidesInThem() {
        // %3F decodes to '?': the driver would have read what follows as its own parameters
        for (String url : new String[] {
            "postgresql://h/shop%3FsocketFactory=org.example.Evil",
            "postgresql://h/shop%3Fsslfactory=x%26sslfactoryarg=y",
            "mariadb://h/shop%3FallowLocalInfile=true",
            "mariadb://h/shop%3BallowLocalInfile=true",
            "postgresql://h/sh%20op",
            "postgresql://h/" + "d".repeat(64)
        }) {
            assertThatThrownBy(() -> ConnectionUrl.parse(url))
                    .as(url)
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessageStartingWith("the database name must be 1-63 letters, digits, '_', '$' or '-'")
                    .message()
                    .doesNotContain("socketFactory", "Evil", "allowLocalInfile");
        }
        assertThat(ConnectionUrl.parse("postgresql://h/my-shop_2$").database()).isEqualTo("my-shop_2$");
    }

    @Test
    void tarnsOwnConnectionsTimeOutUnlessTheUrlSaysOtherwise() {
        assertThat(ConnectionUrl.parse("postgresql://h/db").driverProperties())
                .isEqualTo(Map.of("connectTimeout", "10", "loginTimeout", "10", "socketTimeout", "60"));
        assertThat(ConnectionUrl.parse("postgresql://h/db?connectTimeout=2&sslmode=require")
                        .driverProperties())
                .isEqualTo(Map.of(
                        "connectTimeout", "2", "loginTimeout", "10", "socketTimeout", "60", "sslmode", "require"));
        assertThat(ConnectionUrl.parse("mariadb://h/db").driverProperties())
                .isEqualTo(Map.of("connectTimeout", "10000", "socketTimeout", "60000"));
    }

    @Test
    void refusesUnknownParametersCredentialsAndOtherShapes() {
        assertThatThrownBy(() -> ConnectionUrl.parse("postgresql://h/db?options=-c%20x"))
                .hasMessage("connection parameter 'options' is not supported (allowed: ApplicationName, connectTimeout,"
                        + " loginTimeout, socketTimeout, sslmode, tcpKeepAlive)");
        assertThatThrownBy(() -> ConnectionUrl.parse("postgresql://admin:s3cret@h/db"))
                .hasMessage("the connection URL must not contain credentials: give user and password separately")
                .message()
                .doesNotContain("s3cret");
        assertThatThrownBy(() -> ConnectionUrl.parse("postgresql://h/db?password=s3cret"))
                .hasMessage("the connection URL must not contain credentials: give user and password separately");
        assertThatThrownBy(() -> ConnectionUrl.parse("mysql://h/db")).hasMessageContaining("mariadb://");
        assertThatThrownBy(() -> ConnectionUrl.parse("postgresql://h/")).hasMessageContaining("one database");
        assertThatThrownBy(() -> ConnectionUrl.parse("postgresql:///db")).hasMessage("the connection URL has no host");
        assertThatThrownBy(() -> ConnectionUrl.parse(" ")).hasMessage("the connection URL is empty");
    }
}
