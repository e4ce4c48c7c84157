# pgreshard image: the fat jar (built by the cli module) on a JRE, with pg_dump for schema sync.
#   docker build -t pgreshard:0.1.0 .        (docker compose builds it for you)
#   docker run --rm pgreshard:0.1.0 --help
#
# Stage 1 builds cli/target/pgreshard.jar with Maven (tests are run by CI, not here).
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY core core
COPY workflows workflows
COPY activities activities
COPY proxy proxy
COPY cli cli
RUN mvn -B -q -DskipTests package -pl cli -am

# Stage 2: Debian 12 ships PostgreSQL 15's client tools (pg_dump must be of the source server's major
# or newer: the compose stack's servers are PostgreSQL 15) and OpenJDK 17.
FROM debian:12.7-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /opt/pgreshard pgreshard
COPY --from=build /src/cli/target/pgreshard.jar /opt/pgreshard/pgreshard.jar
USER pgreshard
WORKDIR /opt/pgreshard
# 6432: PostgreSQL protocol (proxy + admin database); 6433: HTTP control API and GET /metrics
EXPOSE 6432 6433
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/pgreshard/pgreshard.jar"]
CMD ["--help"]
