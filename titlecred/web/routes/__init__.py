"""The page routers, one module per area of the site."""

from __future__ import annotations

from fastapi import APIRouter

from titlecred.web.routes import (
    holder,
    home,
    login,
    lookup,
    portal,
    portal_certs,
    portal_reissue,
    portal_reviews,
    presentations_page,
    scan,
    shares_page,
    wallet,
)

ROUTERS: list[APIRouter] = [home.router, login.router, scan.router, lookup.router, holder.router, portal.router,
                            portal_reviews.router, portal_certs.router, portal_reissue.router, wallet.router,
                            presentations_page.router, shares_page.router]
