package io.tarn.server;

import org.apache.iceberg.rest.RESTCompatibilityKitViewCatalogTests;
import org.junit.jupiter.api.extension.ExtendWith;

/** Iceberg's REST Compatibility Kit (views) against Tarn's Iceberg REST catalog. */
@ExtendWith(IcebergRestServer.class)
class IcebergRestViewCatalogIT extends RESTCompatibilityKitViewCatalogTests {}
